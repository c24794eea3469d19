import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { test } from 'node:test';
import { echoBytesSha256 } from './echo-bytes.js';
import { HELLO_BODY, type EchoReplyBody } from './echo-routes.js';
import { startHttp2Echo } from './http2-echo.js';

interface Reply {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const send = (session: ClientHttp2Session, path: string, method = 'GET', body?: Buffer): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': method, 'x-test': 'h2' });
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end(body);
  });

test('h2c echo answers /echo, /hello and /bytes over one session, with x-served-by', async (t) => {
  const echo = await startHttp2Echo({ name: 'beta' });
  t.after(echo.close);
  const session = connect(echo.url);
  t.after(() => session.close());

  const body = Buffer.alloc(200_000, 'y');
  const r = await send(session, '/echo', 'POST', body);
  assert.equal(r.headers[':status'], 200);
  assert.equal(r.headers['x-served-by'], 'beta');
  const e = JSON.parse(r.body.toString('utf8')) as EchoReplyBody;
  assert.equal(e.method, 'POST');
  assert.equal(e.url, '/echo');
  assert.equal(e.httpVersion, '2.0');
  assert.equal(e.headers['x-test'], 'h2');
  assert.equal(e.headers[':path'], undefined, 'pseudo-headers are left out');
  assert.equal(e.bodyBytes, body.length);
  assert.equal(e.bodySha256, createHash('sha256').update(body).digest('hex'));

  const hello = await send(session, '/hello');
  assert.deepEqual(hello.body, HELLO_BODY);

  const bytes = await send(session, '/bytes/300000');
  assert.equal(bytes.headers['x-sha256'], echoBytesSha256(300000));
  assert.equal(createHash('sha256').update(bytes.body).digest('hex'), echoBytesSha256(300000));

  assert.equal(echo.requests, 3);
  assert.equal(echo.sessions, 1);
});

test('h2c /reset resets the stream with INTERNAL_ERROR', async (t) => {
  const echo = await startHttp2Echo();
  t.after(echo.close);
  const session = connect(echo.url);
  t.after(() => session.close());
  const stream = session.request({ ':path': '/reset' });
  stream.end();
  const code = await new Promise<number>((resolve) => {
    stream.on('data', () => {});
    stream.on('error', () => {});
    stream.on('close', () => resolve(stream.rstCode ?? -1));
  });
  assert.equal(code, constants.NGHTTP2_INTERNAL_ERROR);
});
