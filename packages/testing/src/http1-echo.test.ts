import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from 'node:http';
import { test } from 'node:test';
import { echoBytesSha256 } from './echo-bytes.js';
import { HELLO_BODY, RESET_PARTIAL_BYTES, type EchoReplyBody } from './echo-routes.js';
import { startHttp1Echo } from './http1-echo.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
}

/** One request; the body is sent as given and the whole response collected. */
const send = (url: string, opts: RequestOptions = {}, body?: Buffer): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(url, opts, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });

const json = (b: Buffer): EchoReplyBody => JSON.parse(b.toString('utf8')) as EchoReplyBody;

test('/echo reports method, url, headers and the hash of a streamed body', async (t) => {
  const echo = await startHttp1Echo({ name: 'alpha' });
  t.after(echo.close);
  const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
  const r = await send(`${echo.url}/echo?q=1`, { method: 'PUT', headers: { 'x-test': 'yes' } }, body);
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-served-by'], 'alpha');
  const e = json(r.body);
  assert.equal(e.method, 'PUT');
  assert.equal(e.url, '/echo?q=1');
  assert.equal(e.headers['x-test'], 'yes');
  assert.equal(e.httpVersion, '1.1');
  assert.equal(e.bodyBytes, body.length);
  assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));
});

test('/bytes/N streams N deterministic bytes, chunked, with their hash up front', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  const n = 1_000_003;
  const r = await send(`${echo.url}/bytes/${n}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  assert.equal(r.body.length, n);
  const sha = createHash('sha256').update(r.body).digest('hex');
  assert.equal(r.headers['x-sha256'], sha);
  assert.equal(sha, echoBytesSha256(n));

  const withLength = await send(`${echo.url}/bytes/1000?length=1`);
  assert.equal(withLength.headers['content-length'], '1000');
  assert.equal(withLength.body.length, 1000);

  const withTrailer = await send(`${echo.url}/bytes/70000?trailer=1`, { headers: { te: 'trailers' } });
  assert.equal(withTrailer.trailers['x-sha256-trailer'], echoBytesSha256(70000));
});

test('/bytes/N waits for a slow reader instead of buffering', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  const n = 64 * 1024 * 1024;
  const hash = createHash('sha256');
  let received = 0;
  const baseline = process.memoryUsage().arrayBuffers;
  await new Promise<void>((resolve, reject) => {
    request(`${echo.url}/bytes/${n}`, (res) => {
      res.pause();
      // While the client reads nothing, a server that honours backpressure stops once the
      // socket buffers are full; one that ignores it would allocate all 64 MiB meanwhile.
      setTimeout(() => {
        const grown = process.memoryUsage().arrayBuffers - baseline;
        assert.ok(grown < 16 * 1024 * 1024, `server buffered ${grown} bytes for a paused reader`);
        res.on('data', (c: Buffer) => {
          received += c.length;
          hash.update(c);
        });
        res.on('end', resolve);
        res.resume();
      }, 300);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(received, n);
  assert.equal(hash.digest('hex'), echoBytesSha256(n));
});

test('/status/CODE, /hello, /slow/MS and unknown paths', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  assert.equal((await send(`${echo.url}/status/418`)).status, 418);
  const noContent = await send(`${echo.url}/status/204`);
  assert.equal(noContent.status, 204);
  assert.equal(noContent.body.length, 0);
  assert.equal((await send(`${echo.url}/status/99`)).status, 400);

  const hello = await send(`${echo.url}/hello`);
  assert.equal(hello.body.length, 100);
  assert.deepEqual(hello.body, HELLO_BODY);

  const started = Date.now();
  const slow = await send(`${echo.url}/slow/150`);
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - started >= 140, 'replied before the delay');

  assert.equal((await send(`${echo.url}/nope`)).status, 404);
});

test('/reset breaks the connection after the head and part of the body', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  for (const path of ['/reset', '/reset?rst=1']) {
    const outcome = await new Promise<{ status: number; received: number; complete: boolean }>((resolve, reject) => {
      request(`${echo.url}${path}`, (res) => {
        let received = 0;
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('error', () => {}); // 'aborted' surfaces here; 'close' reports it below
        res.on('close', () => resolve({ status: res.statusCode ?? 0, received, complete: res.complete }));
      })
        .on('error', reject)
        .end();
    });
    assert.equal(outcome.status, 200, path);
    assert.equal(outcome.complete, false, path);
    assert.ok(outcome.received <= RESET_PARTIAL_BYTES, path);
  }
});

test('Expect: 100-continue gets 100 Continue before the body is sent', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  const body = Buffer.from('after continue');
  const reply = await new Promise<EchoReplyBody>((resolve, reject) => {
    const req = request(`${echo.url}/echo`, { method: 'POST', headers: { expect: '100-continue', 'content-length': body.length } });
    let continued = false;
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        assert.ok(continued, 'response came without 100 Continue');
        resolve(json(Buffer.concat(chunks)));
      });
    });
    req.on('error', reject);
    req.flushHeaders();
  });
  assert.equal(reply.bodyBytes, body.length);
  assert.equal(reply.headers['expect'], '100-continue');
});

test('keeps connections alive and counts requests and connections', async (t) => {
  const echo = await startHttp1Echo();
  t.after(echo.close);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 3; i++) assert.equal((await send(`${echo.url}/hello`, { agent })).status, 200);
  assert.equal(echo.requests, 3);
  assert.equal(echo.connections, 1);
});
