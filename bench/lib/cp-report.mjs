// Tables and the docs section of the control-plane benchmark (bench/control-plane.mjs).

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');

const COLUMNS = [
  ['proxies', (r) => String(r.proxies)],
  ['applies', (r) => String(r.applies)],
  ['all acked p50 ms', (r) => f1(r.allAckedP50Ms)],
  ['all acked p99 ms', (r) => f1(r.allAckedP99Ms)],
  ['per proxy p50 ms', (r) => f1(r.perProxyP50Ms)],
  ['PUT reply p50 ms', (r) => f1(r.putReplyP50Ms)],
  ['connect all ms', (r) => f0(r.connectMs)],
  ['CP RSS idle MB', (r) => f1(r.rssIdleMb)],
  ['CP RSS connected MB', (r) => f1(r.rssConnectedMb)],
  ['KB per proxy', (r) => f1(r.kbPerProxy)],
];

/** Fixed-width table for stdout. */
export const textTable = (result) => {
  const head = COLUMNS.map(([h]) => h);
  const body = result.rows.map((r) => COLUMNS.map(([, g]) => g(r)));
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(w[i])).join('  ');
  return [line(head), ...body.map(line)].join('\n');
};

const mdTable = (result) => {
  const head = COLUMNS.map(([h]) => h);
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---:').join(' | ')} |`, ...result.rows.map((r) => `| ${COLUMNS.map(([, g]) => g(r)).join(' | ')} |`)].join('\n');
};

const verdicts = (result) => {
  const out = [];
  const at1000 = result.rows.find((r) => r.proxies === 1000);
  if (at1000) {
    const ok = at1000.allAckedP99Ms < result.targets.allAckedP99MsAt1000;
    out.push(`- p99 until all 1000 proxies acked: **${f1(at1000.allAckedP99Ms)} ms** (target < 1000 ms: ${ok ? 'met' : 'NOT met'})`);
  } else {
    out.push('- p99 at 1000 proxies: not measured in this run (quick mode); run without `--quick`');
  }
  const big = [...result.rows].sort((a, b) => b.proxies - a.proxies)[0];
  if (big) {
    const ok = big.kbPerProxy < result.targets.kbPerProxy;
    out.push(`- control-plane memory per connected proxy at ${big.proxies} proxies: **${f1(big.kbPerProxy)} KB** (target < 100 KB: ${ok ? 'met' : 'NOT met'})`);
  }
  return out.join('\n');
};

/** bench/results/cp-latest.md */
export const markdownTable = (result) =>
  `# Control-plane benchmark, ${result.startedAt} (${result.mode})\n\n` +
  `Machine: ${result.machine.cpus} CPUs (${result.machine.model}), ${result.machine.memGb} GB, Node ${result.machine.node}; machine busy during the run: ${result.machineBusyPct}%\n\n` +
  `${mdTable(result)}\n\n${verdicts(result)}\n`;

/** The `## Control plane` section at the end of docs/benchmarks.md. */
export const docsSection = (result) => `## Control plane

How fast a change reaches the proxies, and what each connected proxy costs the control plane
(issue 3, "How fast"). \`bench/control-plane.mjs\`; results in \`bench/results/cp-latest.json\`
and \`cp-latest.md\`; this section is rewritten by each run.

\`\`\`
npm run bench:cp                  # 10, 100 and 1000 proxies, 20 applies each (about 2 min)
npm run bench:cp -- --quick       # 10 and 100 proxies, 5 applies each
npm run bench:cp -- --proxies 1000 --rounds 50 --no-build
\`\`\`

**Setup.** For each number N of proxies, a fresh \`weft control-plane --store memory\` (the
built CLI, on 127.0.0.1, ports picked by the kernel) gets the Services \`backend\`,
\`backend-a\`, \`backend-b\` and \`client\` and an HTTPRoute on \`backend\` splitting between
\`backend-a\` and \`backend-b\`, through the REST API (\`PUT /api/v1/...\`, what \`weft apply\`
does). N simulated proxies (\`bench/lib/cp-proxies.mjs\`: one Node process, one HTTP/2 h2c
connection per proxy, the wire contract of \`packages/api/src/stream.ts\`) connect with at most
50 at a time, each saying \`hello\` as its own workload of \`client\` (127.0.0.1, its own port,
\`upstreams: [backend]\`) and acknowledging every snapshot as soon as it has read the line;
they proxy no traffic. Then, K times, the HTTPRoute is PUT again with other weights, which
changes every proxy's snapshot, and each proxy's receive time of its new snapshot is recorded.

- **all acked**: from the PUT being written until the last of the N proxies has its new
  snapshot (and has sent its ack); p50 and p99 over the K applies (with 20 applies, p99 is
  the worst one).
- **per proxy**: the same interval for each proxy, p50 over all proxies and applies.
- **PUT reply**: until the REST API answered the PUT.
- **KB per proxy**: (control-plane VmRSS with N proxies connected - VmRSS before they
  connected) / N, each the median of 5 samples over 1 s. RSS moves with V8's garbage
  collections, so at 10 proxies this is noise; read the 1000 row.

The simulated proxies share the machine with the control plane: at 1000 proxies, their one
process reads 1000 snapshots per apply, which is part of the measured time (a real fleet
reads them on 1000 hosts). The times are therefore an upper bound for the control plane.

**Targets**: p99 of "all acked" under 1 s at 1000 proxies (Istio publishes no target; Airbnb
measured its p90 at 1.5 to 4.5 s); under 100 KB of control-plane memory per connected proxy.

### Latest run

${result.startedAt} (${result.mode} mode), ${result.machine.cpus} CPUs (${result.machine.model}),
Node ${result.machine.node}. The machine was ${result.machineBusyPct}% busy over the run (this
benchmark included; other work on the machine may have run at the same time and inflates
the times).

${mdTable(result)}

${verdicts(result)}
`;
