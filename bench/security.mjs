#!/usr/bin/env node
// Weft's security benchmark (issue "zero trust", "How fast"). See docs/benchmarks.md, "Security".
//
//   node bench/security.mjs [--quick] [--only ca,issue,tls] [--seconds S] [--no-build] [--no-docs]
//
//   ca     Weft's CA in process: workload certificates per second from CSRs made ahead, at 1,
//          4 and 16 concurrent callers; beside it `openssl x509 -req`, `openssl speed
//          ecdsap256` and Node's crypto.sign (bench/lib/sec-ca.mjs)
//   issue  the same over `POST /weft.v1.Identity/Issue` of a real `weft control-plane` with a
//          join token, N concurrent requesters (bench/lib/sec-issue.mjs)
//   tls    TLS 1.3 mutual handshakes per second, full and resumed, Weft's node:tls setup
//          against HAProxy and openssl s_time (bench/lib/sec-tls.mjs)
// The two-hop benchmark with real mTLS (weft-2hop-mtls) is part of bench/run.mjs.
// Everything on 127.0.0.1; every point is bounded in time and the whole run has a budget.
// Results: a summary on stdout, bench/results/security-latest.json and security-latest.md,
// and the generated part of "## Security" in docs/benchmarks.md.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as proc from './lib/proc.mjs';
import { benchCaInProcess, benchOpensslCa, benchOpensslX509, loadCa, makeCsrs, nodeSignRate, opensslSpeed } from './lib/sec-ca.mjs';
import { benchIssuanceEndToEnd } from './lib/sec-issue.mjs';
import { markdown, textSummary } from './lib/sec-report.mjs';
import { benchHandshakes } from './lib/sec-tls.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);
const resultsDir = path.join(benchDir, 'results');
const tmp = path.join(resultsDir, 'tmp-security');
const PARTS = ['ca', 'issue', 'tls'];

const USAGE = `usage: node bench/security.mjs [--quick] [--only ca,issue,tls] [--seconds S] [--no-build] [--no-docs]
  --quick      2 s per point (default 5 s)
  --only       run only these parts: ca (CA in process and openssl), issue (over the control
               plane's endpoint), tls (handshakes)
  --seconds    seconds per point (1-30)
  --no-build   do not run \`npm run build\` first (the benchmark uses the built packages)
  --no-docs    do not rewrite the generated part of docs/benchmarks.md "Security"`;

const parseArgs = (argv) => {
  const o = { quick: false, only: PARTS, seconds: null, build: true, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--no-docs') o.docs = false;
    else if (a === '--only') o.only = (argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--seconds') o.seconds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  o.seconds ??= o.quick ? 2 : 5;
  if (!(o.seconds >= 1 && o.seconds <= 30) || o.only.length === 0 || !o.only.every((p) => PARTS.includes(p))) {
    console.error(`--seconds: 1-30; --only: some of ${PARTS.join(', ')}\n${USAGE}`);
    process.exit(2);
  }
  return o;
};

const opts = parseArgs(process.argv.slice(2));
const t0 = Date.now();
const say = (msg) => process.stderr.write(`[security ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);

// ------------------------------------------------------------------ cleanup on every exit path
let exiting = false;
const bail = async (code, why) => {
  if (exiting) return;
  exiting = true;
  if (why) say(why);
  await proc.stopAll().catch(() => {});
  proc.killAllSync();
  process.exit(code);
};
process.on('SIGINT', () => bail(130, 'interrupted; stopping every process'));
process.on('SIGTERM', () => bail(143, 'terminated; stopping every process'));
process.on('SIGHUP', () => bail(129, 'hangup; stopping every process'));
process.on('uncaughtException', (e) => bail(1, `error: ${e?.stack ?? e}`));
process.on('unhandledRejection', (e) => bail(1, `error: ${e?.stack ?? e}`));
process.on('exit', () => proc.killAllSync());
// About 25 points of `seconds` each, plus start-ups: the budget is generous but finite.
const BUDGET_MS = (opts.seconds * 40 + 120) * 1000;

const version = async (cmd, args, re) => {
  const r = await proc.run(cmd, args, { timeoutMs: 10_000 }).catch(() => null);
  return r && r.code === 0 ? (re.exec(r.stdout + r.stderr)?.[1] ?? null) : null;
};

const docsSection = (md) => {
  const docs = path.join(root, 'docs', 'benchmarks.md');
  const text = fs.readFileSync(docs, 'utf8');
  const open = '<!-- security results (written by bench/security.mjs) -->';
  const close = '<!-- /security results -->';
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  if (a < 0 || b < a) {
    say('docs/benchmarks.md has no security results markers; not rewritten');
    return false;
  }
  fs.writeFileSync(docs, `${text.slice(0, a + open.length)}\n${md}${text.slice(b)}`);
  return true;
};

/**
 * weft-2hop-mtls beside weft-2hop and haproxy-2hop, when bench/run.mjs measured it in the
 * last 3 hours (as `npm run bench` does just before this benchmark).
 */
const twoHopFromLatest = () => {
  let latest;
  try {
    latest = JSON.parse(fs.readFileSync(path.join(resultsDir, 'latest.json'), 'utf8'));
  } catch {
    return null;
  }
  const want = ['direct', 'haproxy-2hop', 'weft-2hop', 'weft-2hop-mtls'];
  const rows = want.map((n) => latest.summary?.find((r) => r.name === n)).filter(Boolean);
  const age = Date.now() - Date.parse(latest.meta?.startedAt ?? '');
  if (!rows.some((r) => r.name === 'weft-2hop-mtls') || !(age < 3 * 3600_000)) return null;
  const busy = Object.fromEntries((latest.results ?? []).map((r) => [r.name, r.backgroundBusyPct]));
  return {
    startedAt: latest.meta.startedAt,
    mode: latest.meta.mode,
    nice: latest.meta.nice,
    rows: rows.map((r) => ({ ...r, backgroundBusyPct: busy[r.name] })),
    mtls: latest.results.find((r) => r.name === 'weft-2hop-mtls')?.mtls ?? null,
  };
};

const main = async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  proc.initProcesses(path.join(resultsDir, '.pids-security.json'), tmp);
  if (opts.build) {
    say('building (npm run build)');
    const b = await proc.run('npm', ['run', 'build', '--silent'], { cwd: root, timeoutMs: 300_000, logFile: path.join(tmp, 'build.log') });
    if (b.code !== 0) throw new Error(`npm run build failed (${b.timedOut ? 'timed out' : `exit ${b.code}`}): ${(b.stdout + b.stderr).slice(-1500)}`);
  }
  setTimeout(() => bail(1, `the security benchmark exceeded its budget of ${BUDGET_MS / 1000} s; stopping`), BUDGET_MS).unref();

  const m0 = proc.machineCpu();
  await proc.sleep(1000);
  const m1 = proc.machineCpu();
  const result = {
    meta: {
      startedAt: new Date().toISOString(),
      mode: opts.quick ? 'quick' : 'full',
      seconds: opts.seconds,
      parts: opts.only,
      backgroundBusyPct: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, kernel: os.release() },
      versions: {
        openssl: (await version('openssl', ['version'], /^(OpenSSL \S+)/)) ?? 'openssl ?',
        haproxy: await version('haproxy', ['-v'], /version (\S+)/),
      },
    },
    errors: [],
  };
  if (result.meta.backgroundBusyPct > 10) say(`warning: the machine was ${result.meta.backgroundBusyPct.toFixed(0)}% busy before the run (other processes); numbers will be noisy`);

  const { x509 } = await loadCa();
  say('making 256 P-256 keys and CSRs ahead');
  const csrs = await makeCsrs(x509, 256);
  const caDir = path.join(tmp, 'ca-in-process');
  fs.mkdirSync(caDir, { recursive: true });
  // The in-process CA also issues the handshake benchmark's certificates.
  let ca = null;
  const part = async (name, fn) => {
    try {
      await fn();
    } catch (e) {
      say(`${name}: failed: ${e.message}`);
      result.errors.push({ part: name, message: e.message });
    }
  };

  if (opts.only.includes('ca')) {
    await part('ca', async () => {
      const lanesList = [1, 4, 16];
      const r = await benchCaInProcess({ dir: caDir, csrs, lanesList, durationS: opts.seconds, say });
      ca = r.ca;
      result.caInProcess = { rows: r.rows, sampleLeaf: r.sampleChainPem.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n' };
      result.opensslX509 = [];
      for (const parallel of [1, 2]) {
        const x = await benchOpensslX509({ dir: caDir, csrs, parallel, durationS: opts.seconds });
        say(`openssl x509 -req, ${parallel} at a time: ${x.perS.toFixed(0)} certificates/s`);
        result.opensslX509.push(x);
      }
      result.opensslCa = await benchOpensslCa({ dir: caDir, csrs, durationS: opts.seconds });
      say(`openssl ca -batch, ${result.opensslCa.batch} CSRs per process: ${result.opensslCa.perS.toFixed(0)} certificates/s`);
      result.opensslSpeed = await opensslSpeed(Math.min(opts.seconds, 3));
      result.nodeSign = nodeSignRate(Math.min(opts.seconds, 3));
      say(`openssl speed: ${result.opensslSpeed.signPerS} signs/s; node crypto.sign: ${result.nodeSign.signPerS.toFixed(0)}/s`);
    });
  }
  if (opts.only.includes('issue')) {
    await part('issue', async () => {
      result.issuance = await benchIssuanceEndToEnd({
        dir: path.join(tmp, 'control-plane'),
        csrs,
        lanesList: [1, 4, 16],
        modes: ['new', 'kept'],
        durationS: opts.seconds,
        say,
      });
    });
  }
  if (opts.only.includes('tls')) {
    await part('tls', async () => {
      if (ca === null) {
        const { CertificateAuthority } = await loadCa();
        ca = await CertificateAuthority.open({ dataDir: caDir, trustDomain: 'cluster.local' });
      }
      result.handshakes = await benchHandshakes({ ca, csrs, dir: path.join(tmp, 'tls'), seconds: opts.seconds, say });
    });
  }

  result.twoHop = twoHopFromLatest();
  const md = markdown(result);
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'security-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, 'security-latest.md'), md);
  const wroteDocs = opts.docs && opts.only.length === PARTS.length && result.errors.length === 0 ? docsSection(md) : false;
  console.log(`\n${textSummary(result)}`);
  console.log(`wrote bench/results/security-latest.json, security-latest.md${wroteDocs ? ' and docs/benchmarks.md (Security results)' : ''} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await bail(result.errors.length ? 1 : 0);
};

main().catch((e) => bail(1, `error: ${e?.stack ?? e}`));
