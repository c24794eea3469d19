/**
 * Route rules over HTTP/2 and gRPC, end to end through real `weft proxy` processes: gRPC
 * calls routed by service, method and metadata with a `@grpc/grpc-js` client (client ->
 * outbound proxy -> inbound proxy v1 or v2 -> gRPC echo app), gRPC matches that take gRPC
 * calls only, NR as a gRPC status, and HTTP/2 filters (rewrite, header modifiers,
 * redirect, mirror) against h2c servers.
 */
import assert from 'node:assert/strict';
import { connect as http2Connect, createServer as createHttp2Server, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  ECHO_SERVICE_NAME,
  createTmpDir,
  freePort,
  grpcEchoClient,
  startGrpcEcho,
  startHttp2Echo,
  type EchoReplyBody,
  type GrpcEcho,
  type GrpcEchoClient,
  type Http2Echo,
} from '@weft/testing';
import { adminGet, eventually, type ProxyProcess, snapshot, startProxy, suiteContext, type TestContext } from './http1-mesh-fixture.js';

interface H2Reply {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const h2Request = (session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer): Promise<H2Reply> =>
  new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let response: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      response = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers: response, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });

/** An h2c server that records each request (path, authority, body length) and answers 200. */
const startH2Recorder = async (t: TestContext): Promise<{ port: number; seen: { path: string; authority: string; bytes: number; marker: string }[] }> => {
  const seen: { path: string; authority: string; bytes: number; marker: string }[] = [];
  const server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    let bytes = 0;
    stream.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    stream.on('end', () => {
      seen.push({ path: String(headers[':path']), authority: String(headers[':authority']), bytes, marker: String(headers['x-marker'] ?? '') });
      stream.respond({ ':status': 200 });
      stream.end('ignored');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(() => r(undefined))));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr !== null ? addr.port : 0, seen };
};

const mirrorCount = async (p: ProxyProcess, outcome: string): Promise<number> => {
  const m = new RegExp(`^weft_proxy_mirror_requests_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec((await adminGet(p, '/metrics')).text);
  return m === null ? 0 : Number(m[1]);
};

describe('route rules over HTTP/2 and gRPC through real proxies', () => {
  const ctx = suiteContext();
  let shadow: GrpcEcho;
  let web: Http2Echo;
  let recorder: { port: number; seen: { path: string; authority: string; bytes: number; marker: string }[] };
  let outbound: ProxyProcess;
  let client: GrpcEchoClient;
  let strict: GrpcEchoClient;
  let webSession: ClientHttp2Session;
  let echoSession: ClientHttp2Session;

  before(async () => {
    const apps = await Promise.all(['v1', 'v2'].map((name) => startGrpcEcho({ name })));
    for (const a of apps) ctx.after(a.close);
    shadow = await startGrpcEcho({ name: 'shadow' });
    ctx.after(shadow.close);
    web = await startHttp2Echo({ name: 'web' });
    ctx.after(web.close);
    recorder = await startH2Recorder(ctx);
    const dir = await createTmpDir({ prefix: 'routing-grpc', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const inbound = await Promise.all(
      apps.map(async (app) => {
        const p = await freePort();
        await startProxy(ctx, dir, snapshot({}), ['--service', 'echo', '--port', String(p), '--app-port', String(app.port), '--app-protocol', 'grpc']);
        return p;
      }),
    );
    const to = (version: string): object => ({ service: 'echo.default', subset: { version } });
    const grpcPort = [{ port: 50051, protocol: 'grpc' as const }];
    outbound = await startProxy(
      ctx,
      dir,
      snapshot({
        services: [
          {
            name: 'echo',
            ports: grpcPort,
            routes: [
              {
                name: 'streams',
                matches: [{ grpc: { type: 'RegularExpression', service: 'weft\\.testing\\.echo\\.v1\\..*', method: '.*Stream' } }],
                backendRefs: [to('v2')],
              },
              {
                name: 'beta',
                matches: [{ grpc: {}, headers: [{ name: 'x-user', value: 'beta' }] }],
                filters: [
                  { type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-routed-by', value: 'beta' }] } },
                  { type: 'RequestMirror', requestMirror: { service: 'shadow.default' } },
                ],
                backendRefs: [to('v2')],
              },
              { name: 'rest', matches: [{ grpc: {} }], backendRefs: [to('v1')] },
            ],
          },
          {
            name: 'echo-strict',
            ports: grpcPort,
            routes: [{ name: 'unary-only', matches: [{ grpc: { service: ECHO_SERVICE_NAME, method: 'Unary' } }], backendRefs: [to('v1')] }],
          },
          {
            name: 'web',
            ports: [{ port: 8080, protocol: 'http2' }],
            routes: [
              { name: 'moved', matches: [{ path: { type: 'PathPrefix', value: '/moved' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 308 } }], backendRefs: [] },
              {
                name: 'old',
                matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
                filters: [
                  { type: 'URLRewrite', urlRewrite: { hostname: 'web.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/echo/new' } } },
                  { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'prod' }], remove: ['x-debug'] } },
                  { type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'x-resp', value: 'yes' }] } },
                  { type: 'RequestMirror', requestMirror: { service: 'recorder.default' } },
                ],
                backendRefs: [{ service: 'web.default' }],
              },
            ],
          },
        ],
        endpoints: {
          'echo.default': [
            { address: '127.0.0.1', port: inbound[0] ?? 0, labels: { version: 'v1' } },
            { address: '127.0.0.1', port: inbound[1] ?? 0, labels: { version: 'v2' } },
          ],
          'shadow.default': [{ address: '127.0.0.1', port: shadow.port }],
          'web.default': [{ address: '127.0.0.1', port: web.port }],
          'recorder.default': [{ address: '127.0.0.1', port: recorder.port }],
        },
      }),
      ['--service', 'client', '--upstream', 'echo:0', '--upstream', 'echo-strict:0', '--upstream', 'web:0'],
    );
    const ports = outbound.ports.upstreams;
    client = grpcEchoClient(`127.0.0.1:${ports['echo'] ?? 0}`);
    ctx.after(async () => client.close());
    strict = grpcEchoClient(`127.0.0.1:${ports['echo-strict'] ?? 0}`);
    ctx.after(async () => strict.close());
    webSession = http2Connect(`http://127.0.0.1:${ports['web'] ?? 0}`);
    webSession.on('error', () => {});
    ctx.after(async () => webSession.destroy());
    echoSession = http2Connect(`http://127.0.0.1:${ports['echo'] ?? 0}`);
    echoSession.on('error', () => {});
    ctx.after(async () => echoSession.destroy());
  });
  after(() => ctx.cleanup());

  test('gRPC calls are routed by method, and by metadata', async () => {
    for (let i = 0; i < 3; i++) {
      const unary = await client.unary({ message: 'hi' });
      assert.equal(unary.code, status.OK, unary.details);
      assert.equal(unary.replies[0]?.servedBy, 'v1', 'Unary goes to v1');
      const stream = await client.serverStream({ message: 'hi', count: 2 });
      assert.equal(stream.code, status.OK, stream.details);
      assert.deepEqual(stream.replies.map((r) => r.servedBy), ['v2', 'v2'], 'the *Stream methods go to v2');
      const bidi = await client.bidiStream([{ message: 'a' }, { message: 'b' }]);
      assert.equal(bidi.replies[0]?.servedBy, 'v2');
      const beta = await client.unary({ message: 'hi' }, { metadata: { 'x-user': 'beta' } });
      assert.equal(beta.code, status.OK, beta.details);
      assert.equal(beta.replies[0]?.servedBy, 'v2', 'x-user: beta goes to v2');
      assert.equal(beta.replies[0]?.metadata['x-routed-by'], 'beta', 'the rule\'s header modifier reached the app');
    }
  });

  test('a mirrored gRPC call reaches the mirror; the caller gets the backend\'s reply', async () => {
    const before = shadow.calls;
    const r = await client.unary({ message: 'copy me' }, { metadata: { 'x-user': 'beta' } });
    assert.equal(r.replies[0]?.servedBy, 'v2');
    await eventually('the copy at the mirror', () => shadow.calls > before);
  });

  test('a gRPC method no rule matches fails with UNIMPLEMENTED and flag NR', async () => {
    const ok = await strict.unary({ message: 'hi' });
    assert.equal(ok.code, status.OK, ok.details);
    const r = await strict.serverStream({ message: 'hi', count: 1 });
    assert.equal(r.code, status.UNIMPLEMENTED);
    assert.match(String(r.trailers.get('x-weft-error')[0]), /^WEFT_ERR_PROXY_NO_ROUTE \(NR\) at outbound .*no route of echo-strict\.default matches POST \/weft\.testing\.echo\.v1\.Echo\/ServerStream/);
  });

  test('gRPC matches take gRPC calls only: the same path without the gRPC content type is 404 NR', async () => {
    const r = await h2Request(echoSession, { ':method': 'POST', ':path': `/${ECHO_SERVICE_NAME}/Unary`, ':authority': 'echo', 'content-type': 'application/json' }, Buffer.from('{}'));
    assert.equal(r.headers[':status'], 404);
    assert.match(String(r.headers['x-weft-error']), /WEFT_ERR_PROXY_NO_ROUTE \(NR\)/);
  });

  test('HTTP/2: URL rewrite and header modifiers, as seen by the app and the client; the request is mirrored', async () => {
    const seen = recorder.seen.length;
    const r = await h2Request(webSession, { ':method': 'GET', ':path': '/old/x?q=1', ':authority': 'web:8080', 'x-debug': '1', 'x-marker': 'rewrite-test' });
    assert.equal(r.headers[':status'], 200, r.body.toString());
    const e = JSON.parse(r.body.toString('utf8')) as EchoReplyBody;
    assert.equal(e.url, '/echo/new/x?q=1');
    assert.equal(e.headers['x-env'], 'prod');
    assert.equal(e.headers['x-debug'], undefined);
    assert.equal(r.headers['x-resp'], 'yes');
    assert.equal(r.headers['x-served-by'], 'web');
    const posted = await h2Request(webSession, { ':method': 'POST', ':path': '/old', ':authority': 'web:8080', 'x-marker': 'post-test' }, Buffer.alloc(5000, 1));
    assert.equal((JSON.parse(posted.body.toString('utf8')) as EchoReplyBody).bodyBytes, 5000);
    await eventually('two copies at the mirror', () => recorder.seen.length >= seen + 2);
    const copies = recorder.seen.slice(seen);
    const get = copies.find((c) => c.marker === 'rewrite-test');
    assert.deepEqual(get, { path: '/echo/new/x?q=1', authority: 'web.internal-shadow', bytes: 0, marker: 'rewrite-test' }, 'the copy is the request as forwarded, marked -shadow');
    assert.equal(copies.find((c) => c.marker === 'post-test')?.bytes, 5000);
    assert.ok((await mirrorCount(outbound, 'completed')) >= 2);
  });

  test('HTTP/2: a redirect is answered by the proxy', async () => {
    const before = web.requests;
    const r = await h2Request(webSession, { ':method': 'GET', ':path': '/moved/a?b=1', ':authority': 'web:8080' });
    assert.equal(r.headers[':status'], 308);
    assert.equal(r.headers.location, 'https://web/moved/a?b=1');
    const posted = await h2Request(webSession, { ':method': 'POST', ':path': '/moved', ':authority': 'web:8080' }, Buffer.alloc(100_000, 1));
    assert.equal(posted.headers[':status'], 308);
    assert.equal(web.requests, before, 'nothing was forwarded');
  });
});
