// weft-2hop-mtls: the two-hop shape with the mesh's own identities instead of static
// certificate files. A real `weft control-plane` (memory store, loopback, ports picked by
// the kernel) issues each proxy its workload certificate (ECDSA P-256, SPIFFE ID
// spiffe://cluster.local/ns/default/sa/<service>) from a join token; the snapshot's
// transport is `tls: {mode: workload}` with Mesh mtls STRICT (the default), and the
// client proxy checks the server proxy's SPIFFE ID per endpoint.
//
//   wrk -> Weft bench-client (A) -> mutual TLS 1.3, workload certificates -> Weft backend (B) -> backend
//
// The control plane stays up during the measurement (it is idle: no change is applied) and
// is not counted in the proxies' CPU or memory; its own numbers are recorded beside them.

import fs from 'node:fs';
import path from 'node:path';
import { Unavailable } from './configs.mjs';
import { BODY } from './body.mjs';
import { freePort, httpGet, memMb, start, tail, waitFor } from './proc.mjs';
import { sidecarLaunch } from './sidecar-launch.mjs';

export const MTLS_CONFIGS = [{ name: 'weft-2hop-mtls', kind: 'weft', hops: 2, ref: 'haproxy-2hop', mtls: true }];

/**
 * Starts `weft control-plane --store memory`; resolves {proc, api, stream, dataDir, adminToken}
 * once it printed its ready line.
 */
export const startControlPlane = async ({ root, bin, dir, name = 'control-plane', nodeFlags = ['--max-semi-space-size=2'] }) => {
  const dataDir = path.join(dir, 'data');
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dir, 'stdout.log');
  const p = start(
    name,
    process.execPath,
    [...nodeFlags, bin, 'control-plane', '--data-dir', dataDir, '--api-addr', '127.0.0.1:0', '--stream-addr', '127.0.0.1:0', '--store', 'memory'],
    { cwd: root, logFile, stdout: 'pipe', env: { WEFT_LOG_LEVEL: 'warn', NODE_ENV: 'production' } },
  );
  let out = '';
  const ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Unavailable(`control plane not ready in 20 s; log: ${tail(logFile)}`)), 20_000);
    p.child.stdout.setEncoding('utf8');
    p.child.stdout.on('data', (d) => {
      out += d;
      const m = /weft control-plane ready (\{.*\})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]));
      }
    });
    p.exited.then(() => {
      clearTimeout(timer);
      reject(new Unavailable(`control plane exited before ready; log: ${tail(logFile)} ${out.slice(-300)}`));
    });
  });
  // Its log lines go on stdout after the ready line: keep them in the log file.
  p.child.stdout.on('data', (d) => fs.appendFileSync(logFile, d));
  const adminToken = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
  return { proc: p, api: ports.api, stream: ports.stream, dataDir, adminToken };
};

/** `POST /api/v1/tokens` (what `weft token create` does): a reusable join token for a service. */
export const createJoinToken = async (cp, service, ttl = '1h', namespace = 'default') => {
  const res = await fetch(`http://127.0.0.1:${cp.api}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service, namespace, ttl }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json();
  if (res.status !== 201 || typeof body.token !== 'string') throw new Error(`creating a join token for ${service}: ${res.status} ${body.message ?? ''}`);
  return body.token;
};

const startMeshProxy = async (ctx, cp, name, { service, port, appPort, upstream }) => {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const admin = await freePort();
  const tokenFile = path.join(dir, 'join-token');
  fs.writeFileSync(tokenFile, await createJoinToken(cp, service), { mode: 0o600 });
  const launch = sidecarLaunch(ctx.root, ctx.weft.bin);
  const args = [
    ...launch.nodeFlags, ctx.weft.bin, 'proxy', '--service', service, '--namespace', 'default', '--port', String(port),
    '--control-plane', `127.0.0.1:${cp.stream}`, '--token-file', tokenFile, '--data-dir', path.join(dir, 'data'),
  ];
  if (appPort) args.push('--app-port', String(appPort));
  if (upstream) args.push('--upstream', upstream);
  args.push('--admin-port', String(admin));
  const proc = start(name, process.execPath, args, {
    cwd: ctx.root,
    logFile: path.join(dir, 'stdout.log'),
    env: { ...launch.env, WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'warn', NODE_ENV: 'production' },
  });
  proc.admin = admin;
  proc.command = [...launch.envWords, 'node', ...args.map((a) => (a === ctx.weft.bin ? path.relative(ctx.root, a) : a.startsWith(ctx.tmp) ? a.replace(ctx.tmp, '$TMP') : a))].join(' ');
  return proc;
};

const adminJson = (port, p) =>
  new Promise((resolve, reject) => {
    httpGet(port, p, 3000).then((r) => {
      try {
        resolve(JSON.parse(r.body));
      } catch (e) {
        reject(e);
      }
    }, reject);
  });

/**
 * What the client proxy runs with, read from its admin `/config`: the transport mode, the
 * Mesh's mTLS mode and the identity expected of the server proxy's endpoint. The benchmark
 * refuses to measure a chain that is not mutual TLS with workload certificates.
 */
const checkMtls = async (a) => {
  const cfg = await adminJson(a.admin, '/config');
  const snap = cfg.snapshot ?? {};
  const tls = snap.transport?.tls ?? {};
  const endpoints = snap.endpoints?.['backend.default'] ?? [];
  const facts = { tlsMode: tls.mode, mtlsMode: snap.transport?.mtlsMode, endpointIdentity: endpoints[0]?.identity ?? null };
  if (facts.tlsMode !== 'workload') throw new Unavailable(`the client proxy's transport TLS mode is ${facts.tlsMode}, not workload`);
  if (facts.endpointIdentity !== 'spiffe://cluster.local/ns/default/sa/backend') {
    throw new Unavailable(`the backend endpoint carries identity ${facts.endpointIdentity}, not spiffe://cluster.local/ns/default/sa/backend`);
  }
  return facts;
};

/** Brings up the control plane and both proxies; resolves the chain as configs.mjs `up` does. */
export const upWeftMtls = async (ctx, cfg) => {
  if (!ctx.weft?.ok) throw new Unavailable(ctx.weft?.reason ?? 'Weft not probed');
  const cpDir = path.join(ctx.tmp, `${cfg.name}-control-plane`);
  fs.mkdirSync(cpDir, { recursive: true });
  const cp = await startControlPlane({ root: ctx.root, bin: ctx.weft.bin, dir: cpDir });
  const entry = await freePort();
  const mesh = await freePort();
  const clientMesh = await freePort();
  const b = await startMeshProxy(ctx, cp, `${cfg.name}-b`, { service: 'backend', port: mesh, appPort: ctx.backendPort });
  const a = await startMeshProxy(ctx, cp, `${cfg.name}-a`, { service: 'bench-client', port: clientMesh, upstream: `backend:${entry}` });
  const ready = (p) =>
    waitFor(`${p.name} /ready on admin port ${p.admin}`, async () => (await httpGet(p.admin, '/ready')).status === 200, { timeoutMs: 30_000, watch: [p, cp.proc] }).catch((e) => {
      throw new Unavailable(`${e.message}; log: ${tail(p.logFile, 4)}`);
    });
  await Promise.all([ready(a), ready(b)]);
  // B's endpoint reaches A through the control plane once B has registered.
  await waitFor(
    `HTTP 200 with mTLS through 127.0.0.1:${entry}`,
    async () => {
      const r = await httpGet(entry, '/');
      if (r.status !== 200) throw new Error(`status ${r.status}${r.headers['x-weft-error'] ? ` (${r.headers['x-weft-error']})` : ''}`);
      if (r.body !== BODY) throw new Error(`unexpected body (${r.body.length} bytes)`);
      return true;
    },
    { timeoutMs: 20_000, watch: [a, b, cp.proc] },
  ).catch((e) => {
    throw new Unavailable(`${e.message}; logs: A: ${tail(a.logFile, 4)} B: ${tail(b.logFile, 4)} CP: ${tail(cp.proc.logFile, 4)}`);
  });
  const mtls = await checkMtls(a);
  // Plaintext to B's mesh port must be refused (STRICT): the traffic measured is mTLS only.
  const plain = await httpGet(mesh, '/').catch((e) => ({ status: `error ${e.message}`, headers: {} }));
  if (plain.status === 200) throw new Unavailable(`B's mesh port served plaintext (STRICT expected)`);
  mtls.plaintextToMeshPort = `${plain.status}${plain.headers?.['x-weft-error'] ? ` ${plain.headers['x-weft-error'].split(' ')[0]}` : ''}`;
  mtls.controlPlaneRssIdleMb = memMb([cp.proc.pid]).rss;
  ctx.say(`${cfg.name}: control plane up, both proxies joined with tokens; transport ${mtls.tlsMode}, mesh ${mtls.mtlsMode}, B is ${mtls.endpointIdentity}`);
  return {
    entry,
    proxies: [{ role: 'A (client side)', proc: a }, { role: 'B (server side)', proc: b }],
    commands: [
      `node packages/cli/bin/weft.js control-plane --data-dir $TMP/data --api-addr 127.0.0.1:0 --stream-addr 127.0.0.1:0 --store memory`,
      'POST /api/v1/tokens {service, namespace: default, ttl: 1h} (weft token create), one token per proxy',
      b.command,
      a.command,
    ],
    mtls,
  };
};
