#!/usr/bin/env node
// Weft's control-plane benchmark (issue 3, "How fast"). See docs/benchmarks.md, "Control plane".
//
//   npm run bench:cp [-- --quick] [-- --proxies 10,100,1000] [-- --rounds K] [-- --no-build]
//
// For each number N of simulated proxies, a fresh control plane (memory store, loopback,
// ports picked by the kernel) gets Services backend, backend-a, backend-b and client; then N
// config stream clients (bench/lib/cp-proxies.mjs, one forked process, one HTTP/2
// connection each) say hello as workloads of `client` calling `backend`, and ack every
// snapshot. K times, an HTTPRoute on backend is PUT with new weights (it changes every
// proxy's snapshot), and we measure from the PUT being written until each proxy has
// received its new snapshot (the ack goes out on receipt): the last one is "all acked".
// Control-plane memory: VmRSS before the proxies connect and with N connected.
// Results: a table on stdout, bench/results/cp-latest.json and cp-latest.md, and the
// "## Control plane" section of docs/benchmarks.md.

import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as api from './lib/cp-api.mjs';
import * as proc from './lib/proc.mjs';
import { startControlPlane as startMeshControlPlane } from './lib/mtls-config.mjs';
import { workloadCertificate } from './lib/workload-cert.mjs';
import { docsSection, markdownTable, textTable } from './lib/cp-report.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);
const resultsDir = path.join(benchDir, 'results');
const tmp = path.join(resultsDir, 'tmp-cp');
const NS = 'bench';

const USAGE = `usage: npm run bench:cp -- [--quick] [--proxies N[,N...]] [--rounds K] [--no-build]
  --quick      10 and 100 proxies, 5 applies each (default: 10, 100, 1000 proxies, 20 applies)
  --proxies    the numbers of simulated proxies to measure
  --rounds     applies measured per number of proxies
  --no-build   do not run \`npm run build\` first`;

const parseArgs = (argv) => {
  const o = { quick: false, proxies: null, rounds: null, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--proxies') o.proxies = argv[++i];
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  o.proxies = o.proxies ? o.proxies.split(',').map(Number) : o.quick ? [10, 100] : [10, 100, 1000];
  o.rounds ??= o.quick ? 5 : 20;
  if (!o.proxies.every((n) => Number.isInteger(n) && n >= 1 && n <= 5000) || !(Number.isInteger(o.rounds) && o.rounds >= 1 && o.rounds <= 1000)) {
    console.error(`--proxies: whole numbers 1-5000; --rounds: 1-1000\n${USAGE}`);
    process.exit(2);
  }
  return o;
};

// ------------------------------------------------------------------ cleanup on every exit path
let worker = null;
const killWorker = () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    try {
      process.kill(-worker.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
};
let exiting = false;
const bail = async (code, message) => {
  if (exiting) return;
  exiting = true;
  if (message) console.error(message);
  killWorker();
  await proc.stopAll();
  process.exit(code);
};
process.on('SIGINT', () => bail(130, 'interrupted; stopping every process'));
process.on('SIGTERM', () => bail(143, 'terminated; stopping every process'));
process.on('uncaughtException', (e) => bail(1, `error: ${e.stack ?? e}`));
process.on('unhandledRejection', (e) => bail(1, `error: ${e?.stack ?? e}`));
process.on('exit', () => {
  killWorker();
  proc.killAllSync();
});
// Nothing may hang: the whole run has a budget.
const BUDGET_MS = 20 * 60_000;
setTimeout(() => bail(1, `the benchmark exceeded its budget of ${BUDGET_MS / 60_000} min; stopping`), BUDGET_MS).unref();

// ------------------------------------------------------------------ helpers
const quantile = (sorted, q) => {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
};
const sortNum = (a) => [...a].sort((x, y) => x - y);

/** Starts a control plane; resolves {p, apiPort, streamPort, token, dataDir}. */
const startControlPlane = async (label) => {
  const cp = await startMeshControlPlane({ root, bin: path.join(root, 'packages/cli/bin/weft.js'), dir: path.join(tmp, `control-plane-${label}`) });
  return { p: cp.proc, apiPort: cp.api, streamPort: cp.stream, token: cp.adminToken, dataDir: cp.dataDir };
};

/** Forks the simulated proxies; returns an RPC helper over IPC. */
const startWorker = (label) => {
  const logFile = path.join(tmp, `proxies-${label}.log`);
  const fd = fs.openSync(logFile, 'a');
  worker = fork(path.join(benchDir, 'lib/cp-proxies.mjs'), [], { detached: true, stdio: ['ignore', fd, fd, 'ipc'], execArgv: [] });
  fs.closeSync(fd);
  const waiters = [];
  let lastError = null;
  worker.on('message', (m) => {
    if (m.cmd === 'error') {
      lastError = new Error(`simulated proxies: ${m.message}`);
      for (const w of waiters.splice(0)) w.reject(lastError);
      return;
    }
    const i = waiters.findIndex((w) => w.cmd === m.cmd && (w.id === undefined || w.id === m.id));
    if (i >= 0) waiters.splice(i, 1)[0].resolve(m);
  });
  worker.on('exit', (code, signal) => {
    const e = lastError ?? new Error(`simulated proxies exited (${code ?? signal}); log: ${proc.tail(logFile)}`);
    for (const w of waiters.splice(0)) w.reject(e);
  });
  const w = worker;
  /** Sends a message, resolves the reply of type `reply` (and id), or rejects after timeoutMs. */
  const call = (msg, reply, timeoutMs) =>
    new Promise((resolve, reject) => {
      const entry = { cmd: reply, id: msg?.id, resolve, reject };
      const timer = setTimeout(() => {
        const i = waiters.indexOf(entry);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`simulated proxies: no '${reply}' within ${timeoutMs} ms`));
      }, timeoutMs);
      entry.resolve = (m) => (clearTimeout(timer), resolve(m));
      entry.reject = (e) => (clearTimeout(timer), reject(e));
      waiters.push(entry);
      if (msg) w.send(msg);
    });
  const close = async () => {
    if (w.exitCode !== null || w.signalCode !== null) return;
    const exited = new Promise((r) => w.once('exit', r));
    w.send({ cmd: 'close' });
    await Promise.race([exited, proc.sleep(3000)]);
    try {
      process.kill(-w.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  return { call, close, pid: w.pid };
};

const rssKb = (pid) => proc.memKb(pid).rss;

/** Samples VmRSS a few times over ms and takes the median (it moves with V8's collections). */
const steadyRssKb = async (pid, ms = 1000) => {
  const s = [];
  for (let i = 0; i < 5; i++) {
    s.push(rssKb(pid));
    await proc.sleep(ms / 5);
  }
  return quantile(sortNum(s), 0.5);
};

// ------------------------------------------------------------------ one number of proxies
const measure = async (n, rounds) => {
  const label = `n${n}`;
  const cp = await startControlPlane(label);
  console.error(`[${label}] control plane pid ${cp.p.pid}: api ${cp.apiPort}, stream ${cp.streamPort}`);
  try {
    for (const name of ['backend', 'backend-a', 'backend-b', 'client']) await api.put(cp.apiPort, cp.token, api.service(NS, name));
    let weightA = 50;
    await api.put(cp.apiPort, cp.token, api.splitRoute(NS, weightA));
    await proc.sleep(1000);
    const rss0 = await steadyRssKb(cp.p.pid);

    // Every simulated proxy of `client` presents the same workload certificate, as replicas of one service do.
    const tls = await workloadCertificate({ root, apiPort: cp.apiPort, streamPort: cp.streamPort, adminToken: cp.token, service: 'client', namespace: NS });
    const wk = startWorker(label);
    const connectTimeoutMs = 60_000 + n * 60;
    const connected = await wk.call(
      { cmd: 'connect', port: cp.streamPort, n, concurrency: 50, namespace: NS, service: 'client', upstreams: ['backend'], basePort: 20000, timeoutMs: 30_000, tls },
      'connected',
      connectTimeoutMs,
    );
    console.error(`[${label}] ${n} proxies connected in ${connected.ms.toFixed(0)} ms (${connected.snapshots} snapshots)`);
    // Registration of N workloads changes the client Service's endpoints: let it settle.
    await wk.call({ cmd: 'quiet', ms: 1000, timeoutMs: 30_000 }, 'quiet', 40_000);
    await proc.sleep(500);
    const rssN = await steadyRssKb(cp.p.pid);

    const all = []; // ms until the last proxy, per apply
    const perProxy = []; // ms per proxy, every apply
    const putMs = [];
    let extraVersions = 0;
    for (let r = 0; r < rounds; r++) {
      if (cp.p.done) throw new Error(`the control plane exited; log: ${proc.tail(cp.p.logFile)}`);
      weightA = weightA === 50 ? 51 + (r % 40) : 50;
      const id = `${label}-${r}`;
      await wk.call({ cmd: 'expect', id, timeoutMs: 30_000 }, 'armed', 5000);
      const done = wk.call(null, 'round', 35_000).catch(() => null); // waits only
      const { sentAt, repliedAt } = await api.put(cp.apiPort, cp.token, api.splitRoute(NS, weightA));
      putMs.push(repliedAt - sentAt);
      const res = await done;
      if (!res) throw new Error(`apply ${r}: no round result`);
      if (res.timedOut) throw new Error(`apply ${r}: ${res.missing} of ${n} proxies did not receive a new snapshot within 30 s`);
      const times = res.times.map((t) => t - sentAt);
      all.push(Math.max(...times));
      perProxy.push(...times);
      if (res.versions > 1) extraVersions++;
      // Let stragglers (a second push for the same change) arrive before the next apply.
      await wk.call({ cmd: 'quiet', ms: 200, timeoutMs: 10_000 }, 'quiet', 15_000);
    }
    const rssAfter = await steadyRssKb(cp.p.pid, 500);
    await wk.close();
    const s = sortNum(all);
    const pp = sortNum(perProxy);
    const row = {
      proxies: n,
      applies: rounds,
      allAckedP50Ms: quantile(s, 0.5),
      allAckedP99Ms: quantile(s, 0.99),
      allAckedMaxMs: s[s.length - 1],
      perProxyP50Ms: quantile(pp, 0.5),
      perProxyP99Ms: quantile(pp, 0.99),
      putReplyP50Ms: quantile(sortNum(putMs), 0.5),
      connectMs: connected.ms,
      rssIdleMb: rss0 / 1024,
      rssConnectedMb: rssN / 1024,
      rssAfterAppliesMb: rssAfter / 1024,
      kbPerProxy: (rssN - rss0) / n,
      distinctVersionsPerApply: extraVersions ? `>1 in ${extraVersions} applies` : 1,
    };
    console.error(
      `[${label}] all acked p50 ${row.allAckedP50Ms.toFixed(1)} ms, p99 ${row.allAckedP99Ms.toFixed(1)} ms; per proxy p50 ${row.perProxyP50Ms.toFixed(1)} ms; ${row.kbPerProxy.toFixed(1)} KB/proxy`,
    );
    return row;
  } finally {
    killWorker();
    worker = null;
    await proc.stop(cp.p, 3000);
  }
};

// ------------------------------------------------------------------ main
const main = async () => {
  const opts = parseArgs(process.argv.slice(2));
  fs.mkdirSync(tmp, { recursive: true });
  proc.initProcesses(path.join(tmp, 'pids.json'), tmp);
  if (opts.build) {
    console.error('building (npm run build)...');
    const r = await proc.run('npm', ['run', 'build', '--silent'], { cwd: root, timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`npm run build failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${(r.stdout + r.stderr).slice(-2000)}`);
  }
  const startedAt = new Date();
  const cpuBefore = proc.machineCpu();
  const rows = [];
  for (const n of opts.proxies) rows.push(await measure(n, opts.rounds));
  const cpuAfter = proc.machineCpu();
  const result = {
    benchmark: 'control-plane',
    startedAt: startedAt.toISOString(),
    mode: opts.quick ? 'quick' : 'full',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGb: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, kernel: os.release() },
    machineBusyPct: +((100 * (cpuAfter.busy - cpuBefore.busy)) / Math.max(1, cpuAfter.total - cpuBefore.total)).toFixed(1),
    targets: { allAckedP99MsAt1000: 1000, kbPerProxy: 100 },
    rows,
  };
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'cp-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, 'cp-latest.md'), `${markdownTable(result)}\n`);
  const docs = path.join(root, 'docs/benchmarks.md');
  const text = fs.readFileSync(docs, 'utf8');
  const at = text.search(/^## Control plane\s*$/m);
  const before = at >= 0 ? text.slice(0, at) : `${text.replace(/\s*$/, '')}\n\n`;
  fs.writeFileSync(docs, `${before}${docsSection(result)}`);
  console.log(textTable(result));
  console.log(`\nwritten: bench/results/cp-latest.json, bench/results/cp-latest.md, docs/benchmarks.md (## Control plane)`);
};

main().then(
  async () => {
    await proc.stopAll();
    process.exit(0);
  },
  (e) => bail(1, `error: ${e.stack ?? e}`),
);
