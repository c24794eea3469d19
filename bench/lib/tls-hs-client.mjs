// The client side of the handshake benchmark: connections dialled with a Weft proxy's own
// code (packages/proxy/src/transport/connect.ts `dial`, with the client context and the
// per-endpoint SPIFFE ID check of tls-config.ts, built), each sending one HTTP/1.0 request
// and reading the answer before closing (which also delivers the session ticket).
//   full:    every connection to a target never dialled before: a full handshake
//   resumed: every connection to the same target: dial resumes with the last ticket
//
//   node tls-hs-client.mjs PORT MODE LANES SECONDS CERT KEY CA IDENTITY
// Prints one JSON line: handshakes, reused, errors, seconds, CPU of this process, latency.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { loadTlsMaterial } = await import(path.join(root, 'packages/proxy/dist/transport/tls-config.js'));
const { dial } = await import(path.join(root, 'packages/proxy/dist/transport/connect.js'));

const [port, mode, lanes, seconds, certFile, keyFile, caFile, identity] = process.argv.slice(2);
const material = loadTlsMaterial({ tls: { mode: 'static', certFile, keyFile, caFile } });
const verifyPeer = material.verifyPeer(identity);
let seq = 0;
const target = () => ({
  key: mode === 'resumed' ? 'bench-server' : `bench-server-${seq++}`,
  host: '127.0.0.1',
  port: Number(port),
  tls: { context: material.client, verifyPeer },
  connectTimeoutMs: 5000,
});

const once = () =>
  new Promise((resolve, reject) => {
    dial(target(), 'http/1.1', (err, socket) => {
      if (err) return reject(err);
      const reused = socket.isSessionReused();
      let got = '';
      socket.setEncoding('latin1');
      socket.on('data', (d) => (got += d));
      socket.once('end', () => {
        socket.destroy();
        if (!/^HTTP\/1\.[01] 200 /.test(got)) return reject(new Error(`unexpected answer ${JSON.stringify(got.slice(0, 40))}`));
        resolve(reused);
      });
      socket.once('error', reject);
      socket.write('GET / HTTP/1.0\r\nhost: bench\r\n\r\n');
    });
  });

const lat = [];
let reused = 0;
let errors = 0;
let firstError = null;
// One connection first, so that `resumed` has a ticket from the start.
await once().catch((e) => ((firstError = e.message), errors++));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const until = t0 + Number(seconds) * 1000;
const lane = async () => {
  while (performance.now() < until) {
    const s = performance.now();
    try {
      if (await once()) reused++;
      lat.push(performance.now() - s);
    } catch (e) {
      errors++;
      firstError ??= e.message;
      if (errors > 50 && errors > lat.length) break;
    }
  }
};
await Promise.all(Array.from({ length: Number(lanes) }, lane));
const wallS = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.max(0, Math.ceil(p * lat.length) - 1))] ?? null;
process.stdout.write(
  `${JSON.stringify({ handshakes: lat.length, reused, errors, firstError, wallS, cpuS: (cpu.user + cpu.system) / 1e6, p50Ms: q(0.5), p99Ms: q(0.99) })}\n`,
);
process.exit(0);
