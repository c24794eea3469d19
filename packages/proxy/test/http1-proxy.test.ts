/**
 * HTTP/1.1 end to end through two real `weft proxy` processes:
 * client -> outbound proxy -> inbound proxy -> echo app, in plaintext and with static TLS
 * between the proxies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pipeline } from 'node:stream/promises';
import { createTmpDir, echoBytesChunks, echoBytesSha256, HELLO_BODY, startHttp1Echo, type EchoReplyBody, type Http1Echo } from '@weft/testing';
import type { TestPki } from '@weft/testing';
import { curl, eventually, makePki, memoryOf, type Mesh, parseResponses, rawClient, startMesh, suiteContext } from './http1-mesh-fixture.js';

const json = (b: Buffer): EchoReplyBody => JSON.parse(b.toString('utf8')) as EchoReplyBody;

/** Runs `fn` with a suite-level context whose cleanups run in `after`. */
/** Response headers printed by `curl -D -` (or -i), the last response's block. */
const headerBlocks = (dump: string): Record<string, string>[] =>
  dump
    .split(/\r\n\r\n/)
    .filter((b) => b.startsWith('HTTP/'))
    .map((b) => {
      const h: Record<string, string> = { ':status': (b.split('\r\n')[0] ?? '').split(' ')[1] ?? '' };
      for (const l of b.split('\r\n').slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) h[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      return h;
    });

for (const mode of ['plaintext', 'tls'] as const) {
  describe(`HTTP/1.1 through two proxies (${mode} between proxies)`, () => {
    const ctx = suiteContext();
    let app: Http1Echo;
    let mesh: Mesh;
    let up: string;
    let pki: TestPki | undefined;
    /** The proxy processes, and their memory right after start. */
    let pids: number[] = [];
    let idle: { hwm: number; rss: number }[] = [];

    before(async () => {
      app = await startHttp1Echo({ name: 'app' });
      ctx.after(app.close);
      if (mode === 'tls') pki = await makePki(ctx);
      mesh = await startMesh(ctx, { appPort: app.port, ...(pki === undefined ? {} : { pki }) });
      up = `http://127.0.0.1:${mesh.upstreamPort}`;
      pids = [mesh.outbound.proc.pid, mesh.inbound.proc.pid].filter((p): p is number => p !== undefined);
      idle = await Promise.all(pids.map((p) => memoryOf(p)));
    });
    after(() => ctx.cleanup());

    test('keep-alive: several requests on one client connection, and upstream connections reused', async () => {
      const before = app.connections;
      const r = await curl(['-w', '%{http_code} %{num_connects}\\n', '-o', '/dev/null', `${up}/hello`, '-o', '/dev/null', `${up}/echo`, '-o', '/dev/null', `${up}/hello`, '-o', '/dev/null', `${up}/echo`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.toString().trim().split('\n');
      assert.deepEqual(lines, ['200 1', '200 0', '200 0', '200 0'], 'curl reused its one connection for all four requests');
      // The proxies reuse their pooled connections too: at most one new app connection.
      assert.ok(app.connections - before <= 1, `app saw ${app.connections - before} new connections`);
    });

    test('GET returns the app body; Host header preserved; path and query kept', async () => {
      const r = await curl(['-H', 'Host: example.test:1234', `${up}/echo?a=1&b=2`]);
      assert.equal(r.code, 0, r.stderr);
      const e = json(r.stdout);
      assert.equal(e.method, 'GET');
      assert.equal(e.url, '/echo?a=1&b=2');
      assert.equal(e.headers.host, 'example.test:1234');
      const hello = await curl([`${up}/hello`]);
      assert.deepEqual(hello.stdout, HELLO_BODY);
    });

    test('chunked request body is streamed and arrives intact', async (t) => {
      const dir = await createTmpDir({ prefix: 'chunked', t });
      const file = dir.join('body.bin');
      const n = 3 * 1024 * 1024 + 17;
      await pipeline(echoBytesChunks(n), createWriteStream(file));
      const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `${up}/echo`]);
      assert.equal(r.code, 0, r.stderr);
      const e = json(r.stdout);
      assert.equal(e.method, 'POST');
      assert.equal(e.headers['transfer-encoding'], 'chunked');
      assert.equal(e.headers['content-length'], undefined);
      assert.equal(e.bodyBytes, n);
      assert.equal(e.bodySha256, echoBytesSha256(n));
    });

    test('Expect: 100-continue: the interim 100 is relayed before curl sends the body', async (t) => {
      const dir = await createTmpDir({ prefix: 'expect', t });
      const file = dir.join('body.bin');
      const n = 2 * 1024 * 1024;
      await pipeline(echoBytesChunks(n), createWriteStream(file));
      // A long expect timeout: if the 100 were not relayed, curl would wait it out and fail the time bound.
      const r = await curl(['-v', '--expect100-timeout', '15', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${up}/echo`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /< HTTP\/1\.1 100 Continue/);
      const e = json(r.stdout);
      assert.equal(e.headers.expect, '100-continue');
      assert.equal(e.bodyBytes, n);
      assert.equal(e.bodySha256, echoBytesSha256(n));
    });

    test('HEAD: headers only, content-length kept, connection reusable afterwards', async () => {
      const r = await curl(['-I', `${up}/bytes/1000?length=1`, '-I', `${up}/bytes/5000`]);
      assert.equal(r.code, 0, r.stderr);
      const blocks = headerBlocks(r.stdout.toString('latin1'));
      assert.equal(blocks.length, 2);
      assert.equal(blocks[0]?.[':status'], '200');
      assert.equal(blocks[0]?.['content-length'], '1000');
      assert.equal(blocks[1]?.[':status'], '200');
      assert.equal(blocks[1]?.['content-length'], undefined);
      // Then a GET on the same connection: no stray body bytes confuse it.
      const next = await curl(['-o', '/dev/null', '-I', '-w', '%{http_code} %{num_connects}\\n', `${up}/bytes/1000?length=1`, '--next', '-o', '/dev/null', '-w', '%{http_code} %{num_connects} %{size_download}\\n', `${up}/hello`]);
      assert.equal(next.code, 0, next.stderr);
      assert.deepEqual(next.stdout.toString().trim().split('\n'), ['200 1', '200 0 100']);
    });

    test('204 and 304 without body, followed by requests on the same connection', async () => {
      const r = await curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download} %{num_connects}\\n', `${up}/status/204`, '-o', '/dev/null', `${up}/status/304`, '-o', '/dev/null', `${up}/hello`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.toString().trim().split('\n'), ['204 0 1', '304 0 0', '200 100 0']);
    });

    test('raw HEAD, 204 and 304 on one socket: framing stays in sync', async (t) => {
      const c = await rawClient(mesh.upstreamPort, t);
      c.write(
        'HEAD /bytes/300 HTTP/1.1\r\nHost: x\r\n\r\n' +
          'GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n' +
          'GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n' +
          'GET /hello HTTP/1.1\r\nHost: x\r\n\r\n',
      );
      const rs = await c.responses(4, 10_000, (i) => i === 0);
      assert.deepEqual(rs.map((x) => x.status), [200, 204, 304, 200]);
      assert.equal(rs[1]?.headers['content-length'], undefined);
      assert.equal(rs[1]?.headers['transfer-encoding'], undefined);
      assert.deepEqual(rs[3]?.body, HELLO_BODY);
    });

    test('absolute-form requests on the HTTP proxy listener route by authority and keep Host', async () => {
      const proxy = `http://127.0.0.1:${mesh.httpProxyPort}`;
      const withPort = await curl(['-x', proxy, 'http://svc:9080/echo?x=1']);
      assert.equal(withPort.code, 0, withPort.stderr);
      const e1 = json(withPort.stdout);
      assert.equal(e1.url, '/echo?x=1', 'origin-form target sent to the app');
      assert.equal(e1.headers.host, 'svc:9080');
      assert.equal(e1.headers['proxy-connection'], undefined);
      const bare = await curl(['-x', proxy, 'http://svc/echo']);
      assert.equal(bare.code, 0, bare.stderr);
      const e2 = json(bare.stdout);
      assert.equal(e2.url, '/echo');
      assert.equal(e2.headers.host, 'svc');
      const fqdn = await curl(['-x', proxy, 'http://svc.default.svc.cluster.local:9080/hello']);
      assert.deepEqual(fqdn.stdout, HELLO_BODY);
      // HTTP_PROXY in the environment, as an application would set it.
      const env = await curl(['--proxy', proxy, '-o', '/dev/null', '-w', '%{http_code}', 'http://svc/hello']);
      assert.equal(env.stdout.toString(), '200');
    });

    test('hop-by-hop headers are not forwarded; end-to-end ones are', async () => {
      const r = await curl([
        '-H',
        'Connection: keep-alive, X-Hop-Only',
        '-H',
        'X-Hop-Only: secret',
        '-H',
        'Keep-Alive: timeout=5',
        '-H',
        'Proxy-Authorization: Basic dXNlcjpwYXNz',
        '-H',
        'TE: trailers',
        '-H',
        'X-End-To-End: yes',
        `${up}/echo`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const h = json(r.stdout).headers;
      assert.equal(h['x-end-to-end'], 'yes');
      assert.equal(h['x-hop-only'], undefined);
      assert.equal(h['keep-alive'], undefined);
      assert.equal(h['proxy-authorization'], undefined);
      // Via the HTTP proxy listener, where Proxy-Authorization is most likely to be sent.
      const p = await curl(['-x', `http://127.0.0.1:${mesh.httpProxyPort}`, '-U', 'user:pass', 'http://svc/echo']);
      assert.equal(json(p.stdout).headers['proxy-authorization'], undefined);
    });

    test('trailers of a chunked response are forwarded', async () => {
      const n = 70_000;
      const res = await new Promise<{ res: IncomingMessage; body: Buffer }>((resolve, reject) => {
        const req = request(`${up}/bytes/${n}?trailer=1`, { headers: { te: 'trailers' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(res.res.statusCode, 200);
      assert.equal(res.res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.body.length, n);
      assert.equal(res.res.trailers['x-sha256-trailer'], echoBytesSha256(n));
    });

    test('pipelined requests are answered in order', async (t) => {
      const c = await rawClient(mesh.upstreamPort, t);
      // The first is slow: a proxy that answered in completion order would put it last.
      c.write(
        'GET /slow/300 HTTP/1.1\r\nHost: a\r\n\r\n' +
          'POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: 5\r\n\r\nhello' +
          'GET /status/202 HTTP/1.1\r\nHost: c\r\n\r\n' +
          'GET /hello HTTP/1.1\r\nHost: d\r\n\r\n',
      );
      const rs = await c.responses(4);
      assert.deepEqual(rs.map((x) => x.status), [200, 200, 202, 200]);
      assert.deepEqual(rs[0]?.body, HELLO_BODY);
      const e = json(rs[1]?.body ?? Buffer.alloc(0));
      assert.equal(e.headers.host, 'b');
      assert.equal(e.bodyBytes, 5);
      assert.equal(rs[2]?.body.toString(), 'status 202\n');
    });

    test('an HTTP/1.0 client gets a chunked upstream response delimited by close', async (t) => {
      const c = await rawClient(mesh.upstreamPort, t);
      c.write('GET /bytes/100000 HTTP/1.0\r\nHost: svc\r\n\r\n');
      const { data } = await c.closed;
      const [r] = parseResponses(data).responses;
      assert.equal(r?.status, 200);
      assert.equal(r?.headers['transfer-encoding'], undefined);
      assert.equal(r?.headers['connection'], 'close');
      assert.equal(createHash('sha256').update(r?.body ?? Buffer.alloc(0)).digest('hex'), echoBytesSha256(100000));
    });

    if (mode === 'tls') {
      // Large transfers and backpressure: with TLS between the proxies, the costlier case.
      const MB100 = 100 * 1024 * 1024;
      /** Asserts the proxies' peak RSS (VmHWM) stayed under the bound: they streamed, not buffered. */
      const MiB = 1024 * 1024;
      const assertBoundedMemory = async (t: { diagnostic: (m: string) => void }, what: string): Promise<void> => {
        for (const [i, pid] of pids.entries()) {
          const m = await memoryOf(pid);
          const base = idle[i]?.rss ?? 0;
          const grew = m.hwm - base;
          t.diagnostic(`${what}: proxy ${pid} VmHWM ${(m.hwm / MiB).toFixed(1)} MB (idle ${(base / MiB).toFixed(1)} MB)`);
          // An idle proxy run from sources through tsx holds about 100-110 MB, and streaming
          // at full speed adds some 40-50 MB of buffers and not yet collected garbage. A
          // proxy that held the 100 MB body would grow by more than the body itself.
          assert.ok(grew < 96 * MiB, `${what}: proxy ${pid} peak RSS grew ${(grew / MiB).toFixed(1)} MB over idle: it buffered the body`);
          assert.ok(m.hwm < 200 * MiB, `${what}: proxy ${pid} peak RSS ${(m.hwm / MiB).toFixed(1)} MB`);
        }
      };

      test('100 MB upload streamed through two proxies, sha256 verified, memory bounded', async (t) => {
        const dir = await createTmpDir({ prefix: 'upload', t });
        const file = dir.join('up.bin');
        await pipeline(echoBytesChunks(MB100, 1024 * 1024), createWriteStream(file));
        const r = await curl(['--max-time', '25', '--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', `${up}/echo`], { timeoutMs: 28_000 });
        assert.equal(r.code, 0, r.stderr);
        const e = json(r.stdout);
        assert.equal(e.bodyBytes, MB100);
        assert.equal(e.bodySha256, echoBytesSha256(MB100));
        await assertBoundedMemory(t, 'after 100 MB upload');
      });

      test('100 MB download streamed through two proxies, sha256 verified, memory bounded', async (t) => {
        const dir = await createTmpDir({ prefix: 'download', t });
        const file = dir.join('down.bin');
        const r = await curl(['--max-time', '25', '-D', dir.join('headers.txt'), '-o', file, `${up}/bytes/${MB100}`], { timeoutMs: 28_000 });
        assert.equal(r.code, 0, r.stderr);
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const c of createReadStream(file)) {
          bytes += (c as Buffer).length;
          hash.update(c as Buffer);
        }
        assert.equal(bytes, MB100);
        assert.equal(hash.digest('hex'), echoBytesSha256(MB100));
        await assertBoundedMemory(t, 'after 100 MB download');
      });

      test('a 100 MB upload from a node client with Content-Length, memory bounded', async (t) => {
        // Streams 100 MB from the client with node's own backpressure; a proxy that ignored
        // backpressure towards the app would grow by the whole body.
        const res = await new Promise<EchoReplyBody>((resolve, reject) => {
          const req = request(`${up}/echo`, { method: 'PUT', headers: { 'content-length': String(MB100) } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(json(Buffer.concat(chunks))));
            res.on('error', reject);
          });
          req.on('error', reject);
          const chunks = echoBytesChunks(MB100, 256 * 1024);
          const pump = (): void => {
            for (;;) {
              const next = chunks.next();
              if (next.done === true) {
                req.end();
                return;
              }
              if (!req.write(next.value)) {
                req.once('drain', pump);
                return;
              }
            }
          };
          pump();
        });
        assert.equal(res.bodyBytes, MB100);
        assert.equal(res.bodySha256, echoBytesSha256(MB100));
        await assertBoundedMemory(t, 'after a second 100 MB upload');
      });
    }
  });
}

/**
 * An app with behaviours the echo server lacks: `/later` pauses the request body and
 * answers 403 after a moment (the app's socket fills meanwhile); any request with
 * `Expect: 100-continue` gets 417 without a 100; `/stream/N` sends the `/bytes/N` payload
 * with backpressure and counts what its socket accepted in `written`.
 */
const startCustomApp = async (): Promise<{ port: number; written: () => number; close: () => Promise<void> }> => {
  let written = 0;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/stream/') === true) {
      const n = Number(req.url.slice('/stream/'.length));
      req.resume();
      written = 0;
      res.writeHead(200, { 'content-length': String(n) });
      const chunks = echoBytesChunks(n);
      const pump = (): void => {
        for (;;) {
          const next = chunks.next();
          if (next.done === true) {
            res.end();
            return;
          }
          written += next.value.length;
          if (!res.write(next.value)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
      return;
    }
    if (req.url === '/later') {
      req.pause();
      setTimeout(() => {
        res.writeHead(403, { 'content-length': '7' });
        res.end('refused');
      }, 300);
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
  });
  server.on('checkContinue', (_req, res) => {
    res.writeHead(417, { 'content-length': '4' });
    res.end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    written: () => written,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
};

describe('early responses and backpressure (custom app, TLS between proxies)', () => {
  const ctx = suiteContext();
  let mesh: Mesh;
  let app: Awaited<ReturnType<typeof startCustomApp>>;

  before(async () => {
    app = await startCustomApp();
    ctx.after(app.close);
    // PERMISSIVE: the inbound tests below speak plaintext HTTP/1.1 to the mesh port directly,
    // to test its own parser; the outbound proxy still talks mTLS to it.
    mesh = await startMesh(ctx, { appPort: app.port, pki: await makePki(ctx), mtlsMode: 'PERMISSIVE' });
  });
  after(() => ctx.cleanup());

  test('a slow-reading client holds the app back through both proxies; nothing is buffered whole', async (t) => {
    const n = 64 * 1024 * 1024;
    const c = await rawClient(mesh.upstreamPort, t);
    c.socket.pause();
    c.write(`GET /stream/${n} HTTP/1.1\r\nHost: svc\r\n\r\n`);
    // Wait until the app's writes stall (its socket stays full): the client reads nothing,
    // so every buffer on the way fills and backpressure reaches the app.
    let last = -1;
    let still = 0;
    await eventually(
      'the app stalls',
      () => {
        const w = app.written();
        still = w > 0 && w === last ? still + 1 : 0;
        last = w;
        return still >= 5 || w >= n;
      },
      20_000,
    );
    t.diagnostic(`the app stalled after ${(app.written() / 1048576).toFixed(1)} MB of ${n / 1048576} MB`);
    assert.ok(app.written() < n / 2, `the app wrote ${app.written()} of ${n} bytes while the client read nothing`);
    // Now read it all: every byte arrives, in order.
    const hash = createHash('sha256');
    let seen = 0;
    let headerDone = false;
    let pending = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${seen} body bytes arrived`)), 25_000);
      c.socket.removeAllListeners('data');
      c.socket.on('data', (d: Buffer) => {
        if (!headerDone) {
          pending = Buffer.concat([pending, d]);
          const end = pending.indexOf('\r\n\r\n');
          if (end < 0) return;
          headerDone = true;
          assert.match(pending.subarray(0, end).toString(), /^HTTP\/1\.1 200/);
          d = pending.subarray(end + 4);
        }
        seen += d.length;
        hash.update(d);
        if (seen >= n) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.socket.resume();
    });
    assert.equal(seen, n);
    assert.equal(hash.digest('hex'), echoBytesSha256(n));
  });

  for (const side of ['outbound', 'inbound'] as const) {
    test(`${side}: a response before the whole body arrived leaves the client connection usable`, async (t) => {
      const port = side === 'outbound' ? mesh.upstreamPort : (mesh.inbound.ports.inbound as number);
      const c = await rawClient(port, t);
      const n = 8 * 1024 * 1024;
      c.write(`POST /later HTTP/1.1\r\nHost: svc\r\nContent-Length: ${n}\r\n\r\n`);
      c.write(Buffer.alloc(n / 2));
      const [first] = await c.responses(1);
      assert.equal(first?.status, 403);
      // The rest of the body, then another request on the same connection.
      c.write(Buffer.alloc(n / 2));
      c.write('GET /ok HTTP/1.1\r\nHost: svc\r\n\r\n');
      const rs = await c.responses(2);
      assert.equal(rs[1]?.status, 200);
      assert.equal(rs[1]?.body.toString(), 'ok');
    });

    test(`${side}: a final status to Expect: 100-continue closes the connection (the body may never come)`, async (t) => {
      const port = side === 'outbound' ? mesh.upstreamPort : (mesh.inbound.ports.inbound as number);
      const c = await rawClient(port, t);
      c.write('POST /upload HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n');
      const [r] = await c.responses(1);
      assert.equal(r?.status, 417);
      assert.equal(r?.headers['connection'], 'close');
      const { error } = await c.closed;
      assert.equal(error, undefined);
    });
  }

  test('curl gets the 417 and its next request still succeeds', async () => {
    const up = `http://127.0.0.1:${mesh.upstreamPort}`;
    const r = await curl(['-o', '/dev/null', '-w', '%{http_code}\\n', '--expect100-timeout', '15', '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(5000), `${up}/upload`, '--next', '-o', '/dev/null', '-w', '%{http_code}\\n', `${up}/ok`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.toString().trim().split('\n'), ['417', '200']);
  });
});

