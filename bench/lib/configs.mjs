// The configurations under test, and how each is brought up on 127.0.0.1.
//
// Shapes:
//   direct  wrk -> backend
//   1hop    wrk -> proxy -> backend                       (plain HTTP/1.1 keep-alive both sides)
//   2hop    wrk -> proxy A -> mutual TLS 1.3 -> proxy B -> backend (each side verifies the
//           other's certificate against the test CA, as sidecars do)
// One core per proxy instance: HAProxy `nbthread 1`, nginx `worker_processes 1`, Weft one
// event loop (except weft-2hop-c2, `--concurrency 2`).

import fs from 'node:fs';
import path from 'node:path';
import { BODY } from './body.mjs';
import { freePort, httpGet, start, waitFor, run, tail } from './proc.mjs';
import { sidecarLaunch } from './sidecar-launch.mjs';

/** Every configuration, in run order. `ref` is the HAProxy configuration it is compared with. */
export const CONFIGS = [
  { name: 'direct', kind: 'direct', hops: 0 },
  { name: 'haproxy-1hop', kind: 'haproxy', hops: 1, ref: 'haproxy-1hop' },
  { name: 'haproxy-2hop', kind: 'haproxy', hops: 2, ref: 'haproxy-2hop' },
  { name: 'nginx-1hop', kind: 'nginx', hops: 1, ref: 'haproxy-1hop' },
  { name: 'nginx-2hop', kind: 'nginx', hops: 2, ref: 'haproxy-2hop' },
  { name: 'weft-1hop', kind: 'weft', hops: 1, ref: 'haproxy-1hop' },
  { name: 'weft-2hop', kind: 'weft', hops: 2, ref: 'haproxy-2hop' },
  { name: 'weft-2hop-c2', kind: 'weft', hops: 2, ref: 'haproxy-2hop', concurrency: 2 },
];

/** A configuration could not be brought up for a reason outside the harness (not a crash). */
export class Unavailable extends Error {}

const nginxBin = () => 'nginx';
const haproxyBin = () => 'haproxy';

// nginx wants every path it may write under a prefix we own (it runs as root here).
const nginxCommon = (dir) => `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_processes 1;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
`;
const nginxHttpCommon = (dir) => `
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
`;

const startNginx = async (ctx, name, conf) => {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'nginx.conf');
  fs.writeFileSync(file, conf(dir));
  const logFile = path.join(dir, 'stdout.log');
  const t = await run(nginxBin(), ['-t', '-q', '-p', dir, '-e', `${dir}/error.log`, '-c', file], { timeoutMs: 10_000 });
  if (t.code !== 0) throw new Error(`nginx -t ${file}: ${t.stderr.trim()}`);
  return start(name, nginxBin(), ['-p', dir, '-e', `${dir}/error.log`, '-c', file, '-g', 'daemon off; master_process on;'], { logFile });
};

const startHaproxy = async (ctx, name, conf) => {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, conf);
  const t = await run(haproxyBin(), ['-c', '-q', '-f', file], { timeoutMs: 10_000 });
  if (t.code !== 0) throw new Error(`haproxy -c ${file}: ${(t.stdout + t.stderr).trim()}`);
  // -db: stay in the foreground, one process (no master-worker).
  return start(name, haproxyBin(), ['-db', '-f', file], { logFile: path.join(dir, 'stdout.log') });
};

/** Waits until a whole chain answers 200 with the 100-byte body. */
const waitChain = (port, watch, timeoutMs = 15_000) =>
  waitFor(
    `HTTP 200 through 127.0.0.1:${port}`,
    async () => {
      const r = await httpGet(port, '/');
      if (r.status !== 200) throw new Error(`status ${r.status}${r.headers['x-weft-error'] ? ` (${r.headers['x-weft-error']})` : ''}`);
      if (r.body !== BODY) throw new Error(`unexpected body (${r.body.length} bytes)`);
      return true;
    },
    { timeoutMs, watch },
  );

/**
 * Starts the backend every configuration uses.
 * @returns {Promise<{port: number, proc: object, describe: string}>}
 */
export const startBackend = async (ctx) => {
  const port = await freePort();
  let proc;
  if (ctx.backend === 'node') {
    proc = start('backend', process.execPath, [path.join(ctx.benchDir, 'lib', 'backend-node.mjs'), String(port)], {
      logFile: path.join(ctx.tmp, 'backend-node.log'),
    });
  } else {
    proc = await startNginx(
      ctx,
      'backend',
      (dir) => `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      default_type text/plain;
      return 200 "${BODY.replace('\n', '\\n')}";
    }
  }
}
`,
    );
  }
  await waitChain(port, [proc]);
  return { port, proc };
};

// ---------------------------------------------------------------- HAProxy

const haproxyGlobal = `
global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
  ssl-default-server-options ssl-min-ver TLSv1.3
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  option http-keep-alive
  http-reuse safe
`;

const upHaproxy = async (ctx, cfg) => {
  const entry = await freePort();
  if (cfg.hops === 1) {
    const a = await startHaproxy(
      ctx,
      'haproxy-1hop-a',
      `${haproxyGlobal}
frontend in
  bind 127.0.0.1:${entry}
  default_backend out
backend out
  server app 127.0.0.1:${ctx.backendPort} maxconn 4000
`,
    );
    await waitChain(entry, [a]);
    return { entry, proxies: [{ role: 'proxy', proc: a }] };
  }
  const mesh = await freePort();
  const leaf = ctx.pki.leaves.backend;
  const b = await startHaproxy(
    ctx,
    'haproxy-2hop-b',
    `${haproxyGlobal}
frontend in
  bind 127.0.0.1:${mesh} ssl crt ${leaf.pemFile} alpn http/1.1 verify required ca-file ${ctx.pki.caFile}
  default_backend out
backend out
  server app 127.0.0.1:${ctx.backendPort} maxconn 4000
`,
  );
  const a = await startHaproxy(
    ctx,
    'haproxy-2hop-a',
    `${haproxyGlobal}
frontend in
  bind 127.0.0.1:${entry}
  default_backend out
backend out
  server b 127.0.0.1:${mesh} maxconn 4000 ssl crt ${ctx.pki.leaves['bench-client'].pemFile} verify required ca-file ${ctx.pki.caFile} sni str(backend) verifyhost backend alpn http/1.1
`,
  );
  await waitChain(entry, [a, b]);
  return { entry, proxies: [{ role: 'A (client side)', proc: a }, { role: 'B (server side)', proc: b }] };
};

// ---------------------------------------------------------------- nginx

const nginxProxy = (listen, upstream, { tlsIn, tlsOut, ctx }) => (dir) => `${nginxCommon(dir)}
http {
${nginxHttpCommon(dir)}
  upstream next {
    server 127.0.0.1:${upstream};
    keepalive 64;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:${listen}${tlsIn ? ' ssl' : ''} backlog=4096;
${
  tlsIn
    ? `    ssl_certificate ${ctx.pki.leaves.backend.certFile};
    ssl_certificate_key ${ctx.pki.leaves.backend.keyFile};
    ssl_protocols TLSv1.3;
    ssl_client_certificate ${ctx.pki.caFile};
    ssl_verify_client on;
`
    : ''
}    location / {
      proxy_pass ${tlsOut ? 'https' : 'http'}://next;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
${
  tlsOut
    ? `      proxy_ssl_protocols TLSv1.3;
      proxy_ssl_verify on;
      proxy_ssl_verify_depth 2;
      proxy_ssl_trusted_certificate ${ctx.pki.caFile};
      proxy_ssl_name backend;
      proxy_ssl_server_name on;
      proxy_ssl_session_reuse on;
      proxy_ssl_certificate ${ctx.pki.leaves['bench-client'].certFile};
      proxy_ssl_certificate_key ${ctx.pki.leaves['bench-client'].keyFile};
`
    : ''
}    }
  }
}
`;

const upNginx = async (ctx, cfg) => {
  const entry = await freePort();
  if (cfg.hops === 1) {
    const a = await startNginx(ctx, 'nginx-1hop-a', nginxProxy(entry, ctx.backendPort, { ctx }));
    await waitChain(entry, [a]);
    return { entry, proxies: [{ role: 'proxy', proc: a }] };
  }
  const mesh = await freePort();
  const b = await startNginx(ctx, 'nginx-2hop-b', nginxProxy(mesh, ctx.backendPort, { tlsIn: true, ctx }));
  const a = await startNginx(ctx, 'nginx-2hop-a', nginxProxy(entry, mesh, { tlsOut: true, ctx }));
  await waitChain(entry, [a, b]);
  return { entry, proxies: [{ role: 'A (client side)', proc: a }, { role: 'B (server side)', proc: b }] };
};

// ---------------------------------------------------------------- Weft

/** The ProxySnapshot YAML a Weft proxy reads with --config (see packages/api/src/snapshot.ts). */
export const weftSnapshot = ({ endpointPort, tls }) => {
  const lines = [
    'apiVersion: weft.dev/v1alpha1',
    'kind: ProxySnapshot',
    'routesVersion: "1"',
    'endpointsVersion: "1"',
    'services:',
    '  - name: backend',
    '    namespace: default',
    '    ports: [{ port: 80, protocol: http }]',
    'endpoints:',
    '  backend.default:',
    `    - { address: 127.0.0.1, port: ${endpointPort} }`,
    'transport:',
  ];
  if (tls) {
    lines.push(
      '  tls:',
      '    mode: static',
      `    certFile: ${JSON.stringify(tls.certFile)}`,
      `    keyFile: ${JSON.stringify(tls.keyFile)}`,
      `    caFile: ${JSON.stringify(tls.caFile)}`,
    );
  } else lines.push('  tls: { mode: disabled }');
  return lines.join('\n') + '\n';
};

/** Checks once per run whether Weft's CLI can be used: bin present, built, `proxy --help` answers. */
export const probeWeft = async (ctx) => {
  const bin = ctx.weftBin ?? path.join(ctx.root, 'packages', 'cli', 'bin', 'weft.js');
  const shown = path.relative(ctx.root, bin);
  let buildNote = null;
  if (!fs.existsSync(bin)) return { ok: false, reason: `${shown} does not exist yet (CLI not written)` };
  if (ctx.build && !ctx.weftBin) {
    ctx.say('building Weft (npm run build)');
    const log = path.join(ctx.tmp, 'weft-build.log');
    const b = await run('npm', ['run', 'build', '--silent'], { cwd: ctx.root, timeoutMs: 240_000, logFile: log });
    if (b.code !== 0) {
      const msg = (b.stdout + b.stderr).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
      // Work elsewhere in the repository (say, the control plane) must not stop the proxy's
      // benchmark: build just the CLI and what it references (api, core, proxy).
      ctx.say(`npm run build failed (${msg.slice(0, 160)}); building packages/cli and its references only`);
      const tsc = path.join(ctx.root, 'node_modules', 'typescript', 'bin', 'tsc');
      const c = await run(process.execPath, [tsc, '-b', 'packages/cli'], { cwd: ctx.root, timeoutMs: 240_000, logFile: log });
      if (c.code !== 0) {
        const m2 = (c.stdout + c.stderr).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
        return { ok: false, reason: `build failed${c.timedOut ? ' (timeout)' : ''}: npm run build: ${msg}; tsc -b packages/cli: ${m2}` };
      }
      buildNote = `npm run build failed; built with tsc -b packages/cli (${msg.slice(0, 200)})`;
    }
  }
  const h = await run(process.execPath, [bin, 'proxy', '--help'], { cwd: ctx.root, timeoutMs: 20_000 });
  const help = h.stdout + h.stderr;
  if (h.code !== 0) return { ok: false, reason: `weft proxy --help exited ${h.code}: ${help.trim().split('\n').slice(-2).join(' | ')}` };
  const missing = ['--config', '--upstream', '--app-port', '--admin-port'].filter((f) => !help.includes(f));
  if (missing.length) return { ok: false, reason: `weft proxy has no ${missing.join(', ')} flag yet` };
  return { ok: true, bin, concurrency: help.includes('--concurrency'), buildNote };
};

const startWeft = async (ctx, name, { service, port, appPort, upstream, snapshot, concurrency }) => {
  const dir = path.join(ctx.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'snapshot.yaml');
  fs.writeFileSync(file, snapshot);
  const admin = await freePort();
  const launch = sidecarLaunch(ctx.root, ctx.weft.bin);
  const args = [...launch.nodeFlags, ctx.weft.bin, 'proxy', '--service', service, '--namespace', 'default', '--port', String(port)];
  if (appPort) args.push('--app-port', String(appPort));
  if (upstream) args.push('--upstream', upstream);
  args.push('--admin-port', String(admin), '--config', file);
  if (concurrency) args.push('--concurrency', String(concurrency));
  const proc = start(name, process.execPath, args, {
    cwd: ctx.root,
    logFile: path.join(dir, 'stdout.log'),
    env: { ...launch.env, WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'warn', NODE_ENV: 'production' },
  });
  proc.admin = admin;
  proc.command = [...launch.envWords, 'node', ...args.map((a) => (a === ctx.weft.bin ? path.relative(ctx.root, a) : a))].join(' ');
  return proc;
};

const weftReady = (proc, timeoutMs = 20_000) =>
  waitFor(
    `${proc.name} /ready on admin port ${proc.admin}`,
    async () => (await httpGet(proc.admin, '/ready')).status === 200,
    { timeoutMs, watch: [proc] },
  ).catch((e) => {
    throw new Unavailable(`${e.message}; log: ${tail(proc.logFile)}`);
  });

/**
 * Brings up Weft, 1 or 2 hops. `cfg.snapshot({role, endpointPort, tls})`, when set, writes
 * each proxy's snapshot instead of {@link weftSnapshot} (role `client` for A, `server` for B),
 * so that a configuration can add routes and policies to the same shape.
 */
export const upWeft = async (ctx, cfg) => {
  if (!ctx.weft?.ok) throw new Unavailable(ctx.weft?.reason ?? 'Weft not probed');
  if (cfg.concurrency && !ctx.weft.concurrency) throw new Unavailable('weft proxy has no --concurrency flag yet');
  const snapshotOf = cfg.snapshot ?? weftSnapshot;
  const entry = await freePort();
  const clientMesh = await freePort();
  if (cfg.hops === 1) {
    const a = await startWeft(ctx, `${cfg.name}-a`, {
      service: 'bench-client',
      port: clientMesh,
      upstream: `backend:${entry}`,
      snapshot: snapshotOf({ role: 'client', endpointPort: ctx.backendPort, tls: null }),
      concurrency: cfg.concurrency,
    });
    await weftReady(a);
    await waitChain(entry, [a]).catch((e) => {
      throw new Unavailable(`${e.message}; log: ${tail(a.logFile)}`);
    });
    return { entry, proxies: [{ role: 'proxy', proc: a }], commands: [a.command] };
  }
  const mesh = await freePort();
  const b = await startWeft(ctx, `${cfg.name}-b`, {
    service: 'backend',
    port: mesh,
    appPort: ctx.backendPort,
    snapshot: snapshotOf({ role: 'server', endpointPort: mesh, tls: { ...ctx.pki.leaves.backend, caFile: ctx.pki.caFile } }),
    concurrency: cfg.concurrency,
  });
  const a = await startWeft(ctx, `${cfg.name}-a`, {
    service: 'bench-client',
    port: clientMesh,
    upstream: `backend:${entry}`,
    snapshot: snapshotOf({ role: 'client', endpointPort: mesh, tls: { ...ctx.pki.leaves['bench-client'], caFile: ctx.pki.caFile } }),
    concurrency: cfg.concurrency,
  });
  await Promise.all([weftReady(a), weftReady(b)]);
  await waitChain(entry, [a, b]).catch((e) => {
    throw new Unavailable(`${e.message}; logs: A: ${tail(a.logFile, 4)} B: ${tail(b.logFile, 4)}`);
  });
  return {
    entry,
    proxies: [{ role: 'A (client side)', proc: a }, { role: 'B (server side)', proc: b }],
    commands: [b.command, a.command],
  };
};

/** Brings up a configuration's proxies; resolves {entry, proxies: [{role, proc}]}. */
export const up = async (ctx, cfg) => {
  if (cfg.kind === 'direct') return { entry: ctx.backendPort, proxies: [] };
  if (cfg.kind === 'haproxy') return upHaproxy(ctx, cfg);
  if (cfg.kind === 'nginx') return upNginx(ctx, cfg);
  if (cfg.kind === 'weft') return upWeft(ctx, cfg);
  throw new Error(`unknown kind ${cfg.kind}`);
};
