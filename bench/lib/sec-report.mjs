// Tables of the security benchmark (bench/security.mjs): markdown for
// bench/results/security-latest.md and the generated part of docs/benchmarks.md "Security".

const f = (v, d = 0) => (v === null || v === undefined || Number.isNaN(v) ? '-' : Number(v).toFixed(d));
const row = (cells) => `| ${cells.join(' | ')} |`;
const head = (cols) => [row(cols.map((c) => c[0])), row(cols.map((c) => (c[1] ? '---:' : '---')))];

const caTable = (r) => {
  const out = [];
  if (r.caInProcess) {
    out.push(...head([['Weft CA in process, callers', 0], ['certificates/s', 1], ['p50 ms', 1], ['p99 ms', 1], ['CPU ms per certificate', 1]]));
    for (const x of r.caInProcess.rows) out.push(row([String(x.lanes), f(x.perS), f(x.p50Ms, 2), f(x.p99Ms, 2), f(x.cpuMsPerOp, 2)]));
    out.push('');
  }
  const peers = [];
  for (const x of r.opensslX509 ?? []) peers.push(`\`openssl x509 -req\`, one process per certificate, ${x.parallel} at a time: **${f(x.perS)}/s**${x.verified ? '' : ' (the leaf did not verify!)'}`);
  if (r.opensslCa) peers.push(`\`openssl ca -batch -infiles\`, ${r.opensslCa.batch} CSRs per process (${r.opensslCa.batches} batches): **${f(r.opensslCa.perS)}/s**`);
  if (r.opensslSpeed) peers.push(`\`openssl speed ecdsap256\` (one core, no certificate): ${f(r.opensslSpeed.signPerS)} signatures/s, ${f(r.opensslSpeed.verifyPerS)} verifications/s`);
  if (r.nodeSign) peers.push(`Node \`crypto.sign\` P-256 (one core, synchronous): ${f(r.nodeSign.signPerS)} signatures/s`);
  if (peers.length) out.push(...peers.map((p) => `- ${p}`), '');
  return out;
};

const issueTable = (r) => {
  if (!r.issuance) return [];
  const out = head([['connection', 0], ['requesters', 1], ['certificates/s', 1], ['p50 ms', 1], ['p99 ms', 1], ['control plane CPU ms/cert', 1], ['requester CPU ms/cert', 1]]);
  for (const x of r.issuance.rows) {
    out.push(row([x.mode === 'new' ? 'new TLS connection per request (as a proxy)' : 'one kept HTTP/2 session per requester', String(x.lanes), f(x.perS), f(x.p50Ms, 1), f(x.p99Ms, 1), f(x.controlPlaneCpuMsPerOp, 2), f(x.clientCpuMsPerOp, 2)]));
  }
  out.push('');
  return out;
};

const tlsTable = (r) => {
  if (!r.handshakes) return [];
  const rows = r.handshakes.rows;
  const ref = (x) => rows.find((y) => y.server.startsWith('HAProxy') && y.clientKind === x.clientKind && y.mode === x.mode);
  const out = head([['mode', 0], ['client', 0], ['server', 0], ['handshakes/s', 1], ['server CPU us/handshake', 1], ['x HAProxy', 1], ['client CPU us/handshake', 1], ['resumed', 1], ['p50 ms', 1]]);
  for (const mode of ['full', 'resumed']) {
    for (const x of rows.filter((y) => y.mode === mode)) {
      const h = ref(x);
      out.push(
        row([
          mode, x.client, x.server, f(x.perS), f(x.serverUsPerHandshake), h && h !== x ? `${f(x.serverUsPerHandshake / h.serverUsPerHandshake, 2)}x` : h === x ? '1.00x' : '-',
          f(x.clientUsPerHandshake), `${f(100 * x.reusedShare)}%`, x.p50Ms === null ? '-' : f(x.p50Ms, 2),
        ]),
      );
    }
  }
  out.push('');
  return out;
};

const TARGET_NAMES = { throughput: 'throughput / HAProxy', cpu: 'CPU per request / HAProxy pair', addedP50: 'added p50 over direct (ms)', addedP99: 'added p99 over direct (ms)', rssAtRate: 'RSS at 1000 rps (MB)', rssIdle: 'RSS idle (MB)' };

/** weft-2hop-mtls beside weft-2hop and haproxy-2hop, from bench/run.mjs's latest.json of the same `npm run bench`. */
const twoHopTable = (t) => {
  const x = (v) => (v === null || v === undefined ? '-' : `${f(v, 2)}x`);
  const sg = (v) => (v === null || v === undefined ? '-' : `${v >= 0 ? '+' : ''}${f(v, 2)}`);
  const out = [
    `From \`bench/run.mjs\`, run ${t.startedAt} (${t.mode}${t.nice !== null && t.nice !== undefined ? `, nice ${t.nice}` : ''}); machine busy before each configuration: ${t.rows.map((r) => `${r.name} ${f(r.backgroundBusyPct)}%`).join(', ')}.`,
    '',
    ...head([['config', 0], ['req/s c32', 1], ['x HAProxy', 1], ['CPU us/req', 1], ['x HAProxy', 1], ['p50 ms', 1], ['p99 ms', 1], ['+p50 ms', 1], ['+p99 ms', 1], ['RSS idle MB', 1], ['RSS@1000 MB', 1], ['private@1000 MB', 1], ['errors', 1]]),
  ];
  for (const r of t.rows) {
    if (r.status !== 'ok') {
      out.push(row([r.name, `${r.status}: ${r.reason}`, ...Array(11).fill('')]));
      continue;
    }
    out.push(row([r.name, String(r.rps), x(r.throughputVsHaproxy), f(r.cpuUsPerReq, 1), x(r.cpuVsHaproxy), f(r.p50, 3), f(r.p99, 3), sg(r.addedP50), sg(r.addedP99), f(r.rssIdleMb, 1), f(r.rssAtRateMb, 1), f(r.ussAtRateMb, 1), String(r.errors)]));
  }
  const weft = t.rows.filter((r) => r.targets);
  if (weft.length) {
    out.push('', ...head([['target (vs haproxy-2hop)', 0], ['required', 0], ...weft.map((r) => [r.name, 0])]));
    for (const k of Object.keys(TARGET_NAMES)) {
      out.push(row([TARGET_NAMES[k], weft[0].targets[k].target, ...weft.map((r) => `${r.targets[k].value ?? '-'} ${r.targets[k].verdict}`)]));
    }
  }
  if (t.mtls) out.push('', `Checked before measuring \`weft-2hop-mtls\`: transport \`${t.mtls.tlsMode}\`, Mesh mTLS \`${t.mtls.mtlsMode}\`, the backend endpoint's identity \`${t.mtls.endpointIdentity}\`, plaintext to the server proxy's mesh port answered \`${t.mtls.plaintextToMeshPort}\`; control plane RSS ${f(t.mtls.controlPlaneRssIdleMb, 1)} MB.`);
  out.push('');
  return out;
};

/** The generated part of the docs section: run line and the three tables. */
export const markdown = (r) => {
  const m = r.meta;
  const out = [
    `Run ${m.startedAt} (${m.mode}, ${m.seconds} s per point), ${m.machine.cpus} cores (${m.machine.cpuModel}), Node ${m.machine.node}, ${m.versions.openssl}${m.versions.haproxy ? `, HAProxy ${m.versions.haproxy}` : ''}; machine ${f(m.backgroundBusyPct)}% busy in the second before the run (other processes).`,
    '',
  ];
  if (r.caInProcess || r.opensslX509) out.push('**CA issuance, in process** (workload certificates from CSRs made ahead):', '', ...caTable(r));
  if (r.issuance) out.push(`**CA issuance over \`POST /weft.v1.Identity/Issue\`** (a real \`weft control-plane\`, join token, control plane RSS after: ${f(r.issuance.controlPlaneRssMb, 1)} MB):`, '', ...issueTable(r));
  if (r.handshakes) out.push('**TLS 1.3 handshakes, mutual, ECDSA P-256 workload certificates** (one HTTP/1.0 exchange per connection):', '', ...tlsTable(r));
  if (r.twoHop) out.push('**Two hops with mTLS** (`weft-2hop-mtls`: workload certificates from a real control plane):', '', ...twoHopTable(r.twoHop));
  for (const e of r.errors ?? []) out.push(`- ${e.part}: not measured: ${e.message}`);
  return `${out.join('\n').trimEnd()}\n`;
};

/** A short summary for the console. */
export const textSummary = (r) => markdown(r).replace(/\*\*/g, '');
