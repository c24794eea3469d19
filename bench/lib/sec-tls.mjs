// TLS handshakes per second between proxies: TLS 1.3, ECDSA P-256 workload certificates
// issued by Weft's CA, mutual authentication, each connection one tiny HTTP/1.0 exchange
// then closed. Servers: a Weft-configured node:tls server (tls-hs-server.mjs) and HAProxy
// terminating TLS (`bind ... ssl crt ... verify required`, answering itself). Clients:
// Weft's `dial` (tls-hs-client.mjs, 8 connections at a time) and `openssl s_time` (one at
// a time: it is sequential). Full handshakes and resumed ones (TLS 1.3 session tickets).
// CPU per handshake, from /proc for the servers and from the clients themselves, is the
// number to compare: the rates depend on which side runs out of core first.

import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { LIFETIME_MS, TRUST_DOMAIN } from './sec-ca.mjs';
import { cpuSeconds, freePort, run, start, stop, tail, waitFor, which } from './proc.mjs';
import net from 'node:net';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const NODE_LANES = 8;

/** A server and a client workload certificate from the CA, as files. */
export const writeWorkloadCerts = async ({ ca, csrs, dir }) => {
  fs.mkdirSync(dir, { recursive: true });
  const out = { bundleFile: path.join(dir, 'bundle.crt') };
  fs.writeFileSync(out.bundleFile, ca.trustBundle.join(''));
  for (const [name, csr] of [['backend', csrs[0]], ['bench-client', csrs[1]]]) {
    const spiffeId = `spiffe://${TRUST_DOMAIN}/ns/default/sa/${name}`;
    const issued = await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId, lifetimeMs: LIFETIME_MS });
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    const pemFile = path.join(dir, `${name}.pem`);
    fs.writeFileSync(certFile, issued.chainPem);
    fs.writeFileSync(keyFile, csr.keyPem, { mode: 0o644 });
    fs.writeFileSync(pemFile, issued.chainPem + csr.keyPem, { mode: 0o644 }); // HAProxy: cert + key
    out[name] = { certFile, keyFile, pemFile, spiffeId };
  }
  return out;
};

const tcpReady = (port) =>
  new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', reject);
  });

const startNodeServer = async (certs, dir) => {
  const port = await freePort();
  const p = start('tls-hs-server', process.execPath, [path.join(here, 'tls-hs-server.mjs'), String(port), certs.backend.certFile, certs.backend.keyFile, certs.bundleFile], {
    cwd: root,
    logFile: path.join(dir, 'tls-hs-server.log'),
  });
  await waitFor('the node:tls server', () => tcpReady(port), { timeoutMs: 15_000, watch: [p] });
  return { name: 'weft (node:tls)', port, proc: p };
};

const startHaproxyServer = async (certs, dir) => {
  if (!which('haproxy')) return null;
  const port = await freePort();
  const file = path.join(dir, 'haproxy-tls.cfg');
  fs.writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 8000
  ssl-default-bind-options ssl-min-ver TLSv1.3
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend tls
  bind 127.0.0.1:${port} ssl crt ${certs.backend.pemFile} ca-file ${certs.bundleFile} verify required alpn http/1.1
  http-request return status 200 content-type text/plain string ok
`,
  );
  const c = await run('haproxy', ['-c', '-q', '-f', file], { timeoutMs: 10_000 });
  if (c.code !== 0) throw new Error(`haproxy -c ${file}: ${(c.stdout + c.stderr).trim()}`);
  const p = start('haproxy-tls', 'haproxy', ['-db', '-f', file], { logFile: path.join(dir, 'haproxy-tls.log') });
  await waitFor('HAProxy TLS termination', () => tcpReady(port), { timeoutMs: 15_000, watch: [p] });
  return { name: 'HAProxy 1 thread', port, proc: p };
};

const nodeClient = async (server, mode, seconds, certs, dir) => {
  const r = await run(
    process.execPath,
    [path.join(here, 'tls-hs-client.mjs'), String(server.port), mode, String(NODE_LANES), String(seconds), certs['bench-client'].certFile, certs['bench-client'].keyFile, certs.bundleFile, certs.backend.spiffeId],
    { cwd: root, timeoutMs: (seconds + 30) * 1000, logFile: path.join(dir, 'tls-hs-client.log') },
  );
  if (r.code !== 0) throw new Error(`tls-hs-client exited ${r.code}: ${r.stderr.trim().slice(-300)}`);
  const o = JSON.parse(r.stdout.trim().split('\n').pop());
  if (o.errors) throw new Error(`${o.errors} connections failed (${o.firstError})`);
  return { client: `weft dial, ${NODE_LANES} at a time`, handshakes: o.handshakes, reused: o.reused, wallS: o.wallS, clientCpuS: o.cpuS, p50Ms: o.p50Ms, p99Ms: o.p99Ms };
};

/** `openssl s_time`, run under bash so that `times` reports its CPU. */
const sTime = async (server, mode, seconds, certs, dir) => {
  const args = [
    's_time', '-connect', `127.0.0.1:${server.port}`, mode === 'resumed' ? '-reuse' : '-new', '-time', String(seconds),
    '-cert', certs['bench-client'].certFile, '-key', certs['bench-client'].keyFile, '-CAfile', certs.bundleFile, '-www', '/',
  ];
  const t0 = performance.now();
  const r = await run('bash', ['-c', 'openssl "$@"; code=$?; times; exit $code', 'bash', ...args], { timeoutMs: (seconds + 30) * 1000, logFile: path.join(dir, 's_time.log') });
  const wallS = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`openssl s_time exited ${r.code}: ${(r.stdout + r.stderr).trim().slice(-300)}`);
  const m = /(\d+) connections in [\d.]+s;/.exec(r.stdout);
  if (!m) throw new Error(`cannot read openssl s_time's output: ${r.stdout.slice(-300)}`);
  // `times`: the shell's own user/sys, then its children's (s_time).
  const t = [...r.stdout.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].pop();
  const clientCpuS = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : NaN;
  const marks = r.stdout.match(/^[*r]{20,}$/gm)?.join('') ?? '';
  return { client: 'openssl s_time, 1 at a time', handshakes: Number(m[1]), reused: [...marks].filter((c) => c === 'r').length, wallS, clientCpuS, p50Ms: null, p99Ms: null };
};

export const benchHandshakes = async ({ ca, csrs, dir, seconds, say }) => {
  const certs = await writeWorkloadCerts({ ca, csrs, dir: path.join(dir, 'certs') });
  const servers = [await startNodeServer(certs, dir)];
  const ha = await startHaproxyServer(certs, dir).catch((e) => {
    say(`HAProxy TLS termination unavailable: ${e.message}`);
    return null;
  });
  if (ha) servers.push(ha);
  const rows = [];
  try {
    for (const server of servers) {
      for (const [clientName, client] of [['weft', nodeClient], ['openssl', sTime]]) {
        for (const mode of ['full', 'resumed']) {
          if (server.proc.done) throw new Error(`${server.name} exited: ${tail(server.proc.logFile)}`);
          const pids = [server.proc.pid];
          const cpu0 = cpuSeconds(pids);
          const r = await client(server, mode, seconds, certs, dir);
          const serverCpuS = cpuSeconds(pids) - cpu0;
          const row = {
            server: server.name,
            clientKind: clientName,
            mode,
            ...r,
            perS: r.handshakes / r.wallS,
            serverUsPerHandshake: (serverCpuS * 1e6) / r.handshakes,
            clientUsPerHandshake: (r.clientCpuS * 1e6) / r.handshakes,
            reusedShare: r.handshakes ? r.reused / r.handshakes : 0,
          };
          say(
            `handshakes ${mode}, ${r.client} -> ${server.name}: ${row.perS.toFixed(0)}/s, server ${row.serverUsPerHandshake.toFixed(0)} us CPU each, client ${row.clientUsPerHandshake.toFixed(0)} us, ${(100 * row.reusedShare).toFixed(0)}% resumed`,
          );
          rows.push(row);
        }
      }
    }
  } finally {
    for (const s of servers) await stop(s.proc, 1000);
  }
  return { rows, certs: { serverIdentity: certs.backend.spiffeId, clientIdentity: certs['bench-client'].spiffeId } };
};
