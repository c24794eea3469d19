// Measures the candidates for the proxy-to-proxy transport (ADR 0003): the cost of one
// 100-byte request/response exchange between two Node processes over TLS 1.3 on loopback,
//   h1-pool : a pool of HTTP/1.1 connections, heads parsed with llhttp (the proxy's engine)
//   h2      : one HTTP/2 session, Node's core http2 streams
//   framed  : the floor for a framing of our own: fixed-size messages on pooled TLS
//             connections with no parsing at all (no custom framing can cost less)
// Each runs at a fixed concurrency for a fixed time; we report throughput and CPU time per
// request of client and server together. Usage: node bench/transport/candidates.mjs [seconds]
import { fork } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.argv[2] ?? 5);
const CONCURRENCY = 32;
const self = fileURLToPath(import.meta.url);

const pki = () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-transport-'));
  const run = (...a) => execFileSync('openssl', a, { stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'), '-subj', '/CN=bench-ca', '-days', '1');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'leaf.key'), '-out', join(dir, 'leaf.csr'), '-subj', '/CN=localhost');
  run('x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', join(dir, 'leaf.pem'), '-days', '1');
  return { dir, ca: join(dir, 'ca.pem'), cert: join(dir, 'leaf.pem'), key: join(dir, 'leaf.key') };
};

const tlsOptions = (p) => ({
  cert: readFileSync(p.cert),
  key: readFileSync(p.key),
  ca: readFileSync(p.ca),
  minVersion: 'TLSv1.3',
  requestCert: true,
  rejectUnauthorized: true,
  checkServerIdentity: () => undefined,
});

const parser = (kind, onHead, onEnd) => {
  const previous = process.noDeprecation;
  process.noDeprecation = true;
  const { HTTPParser } = process.binding('http_parser');
  process.noDeprecation = previous;
  const p = new HTTPParser();
  p.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, 0, 0);
  p[HTTPParser.kOnHeaders] = () => {};
  p[HTTPParser.kOnHeadersComplete] = onHead;
  p[HTTPParser.kOnBody] = () => {};
  p[HTTPParser.kOnMessageComplete] = onEnd;
  return p;
};

const BODY = Buffer.alloc(100, 'x');

async function server(kind, p) {
  const opts = tlsOptions(p);
  let srv;
  if (kind === 'framed') {
    const tls = await import('node:tls');
    const reply = Buffer.concat([Buffer.alloc(60, 'h'), BODY]);
    srv = tls.createServer({ ...opts, ALPNProtocols: ['weft-framed'] }, (socket) => {
      let have = 0;
      socket.on('data', (d) => {
        have += d.length;
        while (have >= 32) {
          have -= 32;
          socket.write(reply);
        }
      });
      socket.on('error', () => {});
    });
  } else if (kind === 'h1-pool') {
    const tls = await import('node:tls');
    srv = tls.createServer({ ...opts, ALPNProtocols: ['http/1.1'] }, (socket) => {
      const ps = parser('request', () => 0, () => {
        socket.cork();
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n');
        socket.write(BODY);
        process.nextTick(() => socket.uncork());
      });
      socket.on('data', (d) => ps.execute(d));
      socket.on('error', () => {});
    });
  } else {
    const http2 = await import('node:http2');
    srv = http2.createSecureServer({ ...opts, ALPNProtocols: ['h2'] });
    srv.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 100 });
      stream.end(BODY);
    });
  }
  srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
  process.on('message', (m) => {
    if (m === 'report') process.send({ cpu: process.cpuUsage() });
  });
}

async function client(kind, p, port) {
  const opts = tlsOptions(p);
  let done = 0;
  let stop = false;
  const start = process.cpuUsage();
  if (kind === 'framed') {
    const tls = await import('node:tls');
    const request = Buffer.alloc(32, 'r');
    for (let i = 0; i < CONCURRENCY; i++) {
      const socket = tls.connect({ ...opts, host: '127.0.0.1', port, ALPNProtocols: ['weft-framed'] });
      let have = 0;
      socket.on('data', (d) => {
        have += d.length;
        while (have >= 160) {
          have -= 160;
          done++;
          if (!stop) socket.write(request);
        }
      });
      socket.on('secureConnect', () => socket.write(request));
    }
  } else if (kind === 'h1-pool') {
    const tls = await import('node:tls');
    for (let i = 0; i < CONCURRENCY; i++) {
      const socket = tls.connect({ ...opts, host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'] });
      const send = () => socket.write('GET / HTTP/1.1\r\nhost: bench\r\n\r\n');
      const pc = parser('response', () => 0, () => {
        done++;
        if (!stop) send();
      });
      socket.on('data', (d) => pc.execute(d));
      socket.on('secureConnect', send);
    }
  } else {
    const http2 = await import('node:http2');
    const session = http2.connect(`https://127.0.0.1:${port}`, { ...opts, ALPNProtocols: ['h2'] });
    const one = () => {
      const req = session.request({ ':path': '/', ':method': 'GET' });
      req.on('data', () => {});
      req.on('end', () => {
        done++;
        if (!stop) one();
      });
      req.end();
    };
    for (let i = 0; i < CONCURRENCY; i++) one();
  }
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  const base = done;
  const cpu0 = process.cpuUsage(start);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  const cpu1 = process.cpuUsage(start);
  process.send({ requests: done - base, cpu: { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system } });
  setTimeout(() => process.exit(0), 100);
}

const role = process.env.WEFT_TRANSPORT_ROLE;
if (role === 'server') await server(process.env.WEFT_TRANSPORT_KIND, JSON.parse(process.env.WEFT_TRANSPORT_PKI));
else if (role === 'client')
  await client(process.env.WEFT_TRANSPORT_KIND, JSON.parse(process.env.WEFT_TRANSPORT_PKI), Number(process.env.WEFT_TRANSPORT_PORT));
else {
  const p = pki();
  const results = [];
  try {
    for (const kind of ['framed', 'h1-pool', 'h2']) {
      const env = { ...process.env, WEFT_TRANSPORT_KIND: kind, WEFT_TRANSPORT_PKI: JSON.stringify(p) };
      const srv = fork(self, [], { env: { ...env, WEFT_TRANSPORT_ROLE: 'server' } });
      const { port } = await new Promise((r) => srv.once('message', r));
      const srvCpu0 = await new Promise((r) => { srv.once('message', (m) => r(m.cpu)); srv.send('report'); });
      const cli = fork(self, [], { env: { ...env, WEFT_TRANSPORT_ROLE: 'client', WEFT_TRANSPORT_PORT: String(port) } });
      const c = await new Promise((r) => cli.once('message', r));
      const srvCpu1 = await new Promise((r) => { srv.once('message', (m) => r(m.cpu)); srv.send('report'); });
      srv.kill();
      // Server CPU spans warm-up too; scale it to the measured window by time share.
      const serverUs = (srvCpu1.user + srvCpu1.system - srvCpu0.user - srvCpu0.system) * (SECONDS / (SECONDS + 1));
      const clientUs = c.cpu.user + c.cpu.system;
      results.push({
        transport: kind,
        rps: Math.round(c.requests / SECONDS),
        cpuUsPerRequest: Math.round(((serverUs + clientUs) / c.requests) * 10) / 10,
      });
    }
  } finally {
    rmSync(p.dir, { recursive: true, force: true });
  }
  console.table(results);
  console.log(JSON.stringify(results));
}
