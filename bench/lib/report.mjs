// Ratios to HAProxy, the console table, and the markdown that goes into docs/benchmarks.md.

/** The issue's targets for Weft, 2 hops with TLS between the proxies (see docs/benchmarks.md). */
export const TARGETS = {
  throughputRatioMin: 0.5, // x HAProxy 2-hop throughput
  cpuRatioMax: 2.5, // x HAProxy pair's CPU per request
  addedP50MaxMs: 0.5, // over direct, at 1000 rps
  addedP99MaxMs: 2,
  rssAtRateMaxMb: 60, // per proxy
  rssIdleMaxMb: 45,
  // Traffic policies on (weft-2hop-policies) against the same chain without (its twin).
  policiesThroughputRatioMin: 0.9,
};

const r2 = (x) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const r3 = (x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null);
const max = (xs) => (xs.length ? Math.max(...xs) : NaN);

/**
 * Adds the comparisons each result needs: ratios to its HAProxy reference, added latency
 * over `direct`, the largest proxy's memory. Returns one summary row per configuration.
 */
export const summarize = (results) => {
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const direct = by.direct?.status === 'ok' ? by.direct : null;
  // The latency floor: direct's percentiles, the lower of its first and last runs (run.mjs).
  const floor = direct ? directFloor(direct) : null;
  return results.map((r) => {
    const row = { name: r.name, hops: r.hops, status: r.status, reason: r.reason ?? null };
    if (r.status !== 'ok') return row;
    const ref = r.ref && by[r.ref]?.status === 'ok' ? by[r.ref] : null;
    const twin = r.twin && by[r.twin]?.status === 'ok' ? by[r.twin] : null;
    row.rps = Math.round(r.throughput.rps);
    row.cpuUsPerReq = r.hops ? r2(r.cpuUsPerReq) : null;
    const vsHaproxy = ref ? rounds(r, ref, r.refRound, 'rps') : [];
    const cpuVsHaproxy = ref && r.hops ? rounds(r, ref, r.refRound, 'cpuUsPerReq') : [];
    row.throughputVsHaproxyRounds = vsHaproxy.map(r3);
    row.throughputVsHaproxy = geomean(vsHaproxy);
    row.cpuVsHaproxyRounds = cpuVsHaproxy.map(r3);
    row.cpuVsHaproxy = geomean(cpuVsHaproxy);
    if (r.twin) {
      row.twin = r.twin;
      const vsTwin = twin ? rounds(r, twin, r.twinRound, 'rps') : [];
      row.throughputRounds = vsTwin.map(r3);
      row.throughputVsTwin = geomean(vsTwin);
      row.cpuVsTwin = twin ? geomean(rounds(r, twin, r.twinRound, 'cpuUsPerReq')) : null;
      row.p50VsTwinMs = twin ? r3(r.fixedRate.latency.p50 - twin.fixedRate.latency.p50) : null;
      row.p99VsTwinMs = twin ? r3(r.fixedRate.latency.p99 - twin.fixedRate.latency.p99) : null;
    }
    const lat = r.fixedRate.latency;
    row.p50 = lat.p50;
    row.p90 = lat.p90;
    row.p99 = lat.p99;
    row.addedP50 = floor ? r3(lat.p50 - floor.p50) : null;
    row.addedP90 = floor ? r3(lat.p90 - floor.p90) : null;
    row.addedP99 = floor ? r3(lat.p99 - floor.p99) : null;
    row.achievedRate = r.fixedRate.achievedRate;
    row.errors = totalErrors(r);
    if (r.hops) {
      row.rssIdleMb = r2(max(r.proxies.map((p) => p.idle.rss)));
      row.rssAtRateMb = r2(max(r.proxies.map((p) => p.atRate.rssMax)));
      row.ussIdleMb = r2(max(r.proxies.map((p) => p.idle.uss)));
      row.ussAtRateMb = r2(max(r.proxies.map((p) => p.atRate.ussMax)));
      row.hwmAfterRateMb = r2(max(r.proxies.map((p) => p.afterRate.hwm)));
      row.hwmAfterLoadMb = r2(max(r.proxies.map((p) => p.afterLoad.hwm)));
    }
    if (r.kind === 'weft' && r.hops === 2) row.targets = checkTargets(row);
    return row;
  });
};

/**
 * `r`'s ratio to `other` in each round: the first pass, then, when the run measured the pair
 * again in the other order (run.mjs), that second round (`{ mine, partner }`).
 */
const rounds = (r, other, second, key) => {
  const first = key === 'rps' ? r.throughput.rps / other.throughput.rps : r.cpuUsPerReq / other.cpuUsPerReq;
  return second ? [first, second.mine[key] / second.partner[key]] : [first];
};

/** The geometric mean of the rounds' ratios (so that neither order's bias decides), rounded; null for none. */
const geomean = (xs) => (xs.length === 0 ? null : r3(Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length)));

/** Direct's latency percentiles: each the lower of its first and (when measured) last run. */
export const directFloor = (direct) => {
  const first = direct.fixedRate.latency;
  const last = direct.lastRound?.fixedRate.latency;
  const pick = (k) => (last ? Math.min(first[k], last[k]) : first[k]);
  return { p50: pick('p50'), p90: pick('p90'), p99: pick('p99') };
};

const totalErrors = (r) => {
  const w = r.throughput.errors;
  const f = r.fixedRate.errors;
  return w.connect + w.read + w.write + w.status + w.timeout + f.connect + f.reset + f.parse + f.timeout + f.non2xx + f.unsent;
};

const verdict = (v, ok) => (v === null || v === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');

/** The issue's targets, PASS/FAIL for one Weft 2-hop row (and against its twin, when it has one). */
export const checkTargets = (row) => ({
  ...(row.twin
    ? {
        throughputVsTwin: {
          value: row.throughputVsTwin,
          target: `>= ${TARGETS.policiesThroughputRatioMin} x ${row.twin}`,
          verdict: verdict(row.throughputVsTwin, row.throughputVsTwin >= TARGETS.policiesThroughputRatioMin),
        },
      }
    : {}),
  throughput: { value: row.throughputVsHaproxy, target: `>= ${TARGETS.throughputRatioMin}`, verdict: verdict(row.throughputVsHaproxy, row.throughputVsHaproxy >= TARGETS.throughputRatioMin) },
  cpu: { value: row.cpuVsHaproxy, target: `<= ${TARGETS.cpuRatioMax}`, verdict: verdict(row.cpuVsHaproxy, row.cpuVsHaproxy <= TARGETS.cpuRatioMax) },
  addedP50: { value: row.addedP50, target: `< ${TARGETS.addedP50MaxMs} ms`, verdict: verdict(row.addedP50, row.addedP50 < TARGETS.addedP50MaxMs) },
  addedP99: { value: row.addedP99, target: `< ${TARGETS.addedP99MaxMs} ms`, verdict: verdict(row.addedP99, row.addedP99 < TARGETS.addedP99MaxMs) },
  rssAtRate: { value: row.rssAtRateMb, target: `< ${TARGETS.rssAtRateMaxMb} MB`, verdict: verdict(row.rssAtRateMb, row.rssAtRateMb < TARGETS.rssAtRateMaxMb) },
  rssIdle: { value: row.rssIdleMb, target: `< ${TARGETS.rssIdleMaxMb} MB`, verdict: verdict(row.rssIdleMb, row.rssIdleMb < TARGETS.rssIdleMaxMb) },
});

const f = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));
const fx = (x) => (x === null || x === undefined ? '-' : `${x.toFixed(2)}x`);
const fs = (x) => (x === null || x === undefined ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);

const COLUMNS = [
  ['config', (r) => r.name],
  ['req/s c32', (r) => (r.rps === undefined ? '-' : String(r.rps))],
  ['x HAProxy', (r) => fx(r.throughputVsHaproxy)],
  // weft-2hop-policies / weft-2hop (the same chain without policies), same run.
  ['x no policies', (r) => fx(r.throughputVsTwin)],
  ['CPU us/req', (r) => f(r.cpuUsPerReq)],
  ['x HAProxy', (r) => fx(r.cpuVsHaproxy)],
  ['p50 ms', (r) => f(r.p50, 3)],
  ['p90 ms', (r) => f(r.p90, 3)],
  ['p99 ms', (r) => f(r.p99, 3)],
  ['+p50 ms', (r) => fs(r.addedP50)],
  ['+p99 ms', (r) => fs(r.addedP99)],
  ['RSS idle MB', (r) => f(r.rssIdleMb, 1)],
  ['RSS@1000 MB', (r) => f(r.rssAtRateMb, 1)],
  ['private idle MB', (r) => f(r.ussIdleMb, 1)],
  ['private@1000 MB', (r) => f(r.ussAtRateMb, 1)],
  ['HWM MB', (r) => f(r.hwmAfterRateMb, 1)],
  ['errors', (r) => (r.errors === undefined ? '-' : String(r.errors))],
];

/** Plain-text table for the console. */
export const textTable = (rows) => {
  const cells = [COLUMNS.map((c) => c[0]), ...rows.filter((r) => r.status === 'ok').map((r) => COLUMNS.map((c) => c[1](r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)];
  for (const r of rows) if (r.status !== 'ok') out.push(`${r.name.padEnd(widths[0])}  ${r.status}: ${r.reason}`);
  return out.join('\n');
};

const mdRow = (cells) => `| ${cells.join(' | ')} |`;

/** Markdown for docs/benchmarks.md: header, main table, per-proxy detail, targets. */
export const markdown = ({ meta, rows, results }) => {
  const out = [];
  out.push(`Run ${meta.startedAt} (${meta.mode}${meta.only ? `, --only ${meta.only}` : ''}${meta.nice !== null && meta.nice !== undefined ? `, nice ${meta.nice}` : ''}), ${meta.machine.cpus} cores (${meta.machine.cpuModel}), Linux ${meta.machine.kernel}; ` +
    `Node ${meta.versions.node}, HAProxy ${meta.versions.haproxy}, nginx ${meta.versions.nginx}, wrk ${meta.versions.wrk}, OpenSSL ${meta.versions.openssl}; backend: ${meta.backend}.`);
  if (meta.weft?.buildNote) out.push('', `Weft build: ${meta.weft.buildNote}.`);
  out.push('');
  out.push(`Throughput: \`${meta.wrk}\` after a ${meta.warmupS} s warm-up. Latency: ${meta.fixedRate}. ` +
    'CPU: utime+stime of every process of the proxies (both proxies for 2 hops) over the measured wrk run, divided by its requests. ' +
    'RSS: largest single proxy (summed over its processes); idle after start, sampled during the 1000 rps run, VmHWM after it.');
  out.push('');
  out.push(mdRow(COLUMNS.map((c) => c[0])));
  out.push(mdRow(COLUMNS.map((_, i) => (i === 0 ? '---' : '---:'))));
  for (const r of rows) {
    if (r.status === 'ok') out.push(mdRow(COLUMNS.map((c) => c[1](r))));
    else out.push(mdRow([r.name, `${r.status}: ${String(r.reason).replace(/\|/g, '\\|').slice(0, 200)}`, ...COLUMNS.slice(2).map(() => '')]));
  }
  out.push('');
  out.push('Per proxy process:');
  out.push('');
  out.push(mdRow(['config', 'proxy', 'processes', 'CPU us/req', 'RSS idle MB', 'RSS@1000 max MB', 'private idle MB', 'private@1000 max MB', 'HWM after 1000 rps MB', 'HWM after wrk c32 MB']));
  out.push(mdRow(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of results) {
    if (r.status !== 'ok') continue;
    for (const p of r.proxies) {
      out.push(mdRow([r.name, p.role, String(p.processes), f(p.cpuUsPerReq), f(p.idle.rss, 1), f(p.atRate.rssMax, 1), f(p.idle.uss, 1), f(p.atRate.ussMax, 1), f(p.afterRate.hwm, 1), f(p.afterLoad.hwm, 1)]));
    }
  }
  const direct = results.find((r) => r.name === 'direct' && r.status === 'ok');
  if (direct) {
    out.push('');
    out.push(`Backend alone (direct): ${Math.round(direct.throughput.rps)} req/s at c32 (backend CPU ${f(direct.backendCpuUsPerReq)} us/req); ` +
      `at 1000 rps p50 ${f(direct.fixedRate.latency.p50, 3)} / p90 ${f(direct.fixedRate.latency.p90, 3)} / p99 ${f(direct.fixedRate.latency.p99, 3)} ms ` +
      `(from the write: p50 ${f(direct.fixedRate.service.p50, 3)} / p99 ${f(direct.fixedRate.service.p99, 3)} ms)` +
      (direct.lastRound
        ? `; measured again last: p50 ${f(direct.lastRound.fixedRate.latency.p50, 3)} / p90 ${f(direct.lastRound.fixedRate.latency.p90, 3)} / p99 ${f(direct.lastRound.fixedRate.latency.p99, 3)} ms. Added latency is over the lower of the two, percentile by percentile.`
        : '.'));
  }
  const loaded = results.filter((r) => r.status === 'ok' && r.hops);
  if (loaded.length) {
    out.push('');
    out.push('Machine CPU busy during the wrk run (2 cores = 100%): ' + loaded.map((r) => `${r.name} ${f(r.machineBusyPct, 0)}%`).join(', ') + '.');
  }
  const bg = results.filter((r) => Number.isFinite(r.backgroundBusyPct));
  if (bg.length) {
    out.push('');
    out.push('Machine CPU busy in the second before each configuration (other processes; 0% is a quiet machine): ' + bg.map((r) => `${r.name} ${f(r.backgroundBusyPct, 0)}%`).join(', ') + '.');
  }
  for (const t of rows.filter((r) => r.throughputVsHaproxyRounds?.length > 1)) {
    out.push('');
    out.push(`${t.name} against HAProxy in both orders (first pass, HAProxy minutes earlier; then ${t.name} right before it): ` +
      `throughput ${t.throughputVsHaproxyRounds.join(' and ')}, CPU per request ${t.cpuVsHaproxyRounds.join(' and ')}; ` +
      `its "x HAProxy" columns and targets use the geometric mean of the two (req/s and CPU us/req are the first pass's).`);
  }
  for (const t of rows.filter((r) => r.twin && r.throughputVsTwin !== null && r.throughputVsTwin !== undefined)) {
    out.push('');
    out.push(`Traffic policies (${t.name} / ${t.twin}, same run${t.throughputRounds?.length > 1 ? `, both orders: ${t.throughputRounds.join(' and ')}` : ''}): throughput ${f(t.throughputVsTwin, 3)} ` +
      `(target >= ${TARGETS.policiesThroughputRatioMin}: ${t.targets?.throughputVsTwin?.verdict ?? 'n/a'}), CPU per request ${fx(t.cpuVsTwin)}, ` +
      `p50 ${fs(t.p50VsTwinMs)} ms, p99 ${fs(t.p99VsTwinMs)} ms at 1000 rps.`);
    const facts = results.find((r) => r.name === t.name)?.policies;
    if (facts) out.push('', `Policies in effect (from the proxies' \`/config\`): ${Object.entries(facts).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('; ')}.`);
  }
  const weft = rows.filter((r) => r.targets);
  for (const w of weft) {
    out.push('');
    out.push(`Targets (${w.name} vs haproxy-2hop${w.twin ? `; the first one vs ${w.twin}` : ''}):`);
    out.push('');
    out.push(mdRow(['target', 'required', 'measured', 'verdict']));
    out.push(mdRow(['---', '---', '---:', '---']));
    const names = { throughputVsTwin: `throughput / ${w.twin ?? 'twin'} (no policies)`, throughput: 'throughput / HAProxy', cpu: 'CPU per request / HAProxy pair', addedP50: 'added p50 over direct (ms)', addedP99: 'added p99 over direct (ms)', rssAtRate: 'RSS at 1000 rps (MB)', rssIdle: 'RSS idle (MB)' };
    for (const [k, t] of Object.entries(w.targets)) out.push(mdRow([names[k], t.target, t.value === null ? '-' : String(t.value), t.verdict]));
  }
  return out.join('\n') + '\n';
};
