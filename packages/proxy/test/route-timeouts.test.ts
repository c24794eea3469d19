/**
 * Route timeouts end to end, through a real `weft proxy` process in front of backends that
 * stall: `timeouts.request` and `timeouts.backendRequest` end a request that gets no
 * response head in time with 504 and flag UT over HTTP/1.1, and DEADLINE_EXCEEDED for a
 * gRPC call over HTTP/2; in both cases the request to the backend is cancelled (its
 * connection closed, its stream reset), not left running. A rule without timeouts, and a
 * backend that answers in time, are not affected.
 */
import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { createTmpDir } from '@weft/testing';
import { eventually, snapshot, startProxy, suiteContext, type TestContext } from './http1-mesh-fixture.js';

/** Runs cleanups registered during `before`, in reverse, in `after`. */
/** What a stalling backend saw: requests by path, and how many of them the proxy cancelled. */
interface Stalls {
  readonly port: number;
  readonly started: Map<string, number>;
  readonly cancelled: Map<string, number>;
}

const bump = (m: Map<string, number>, k: string): void => {
  m.set(k, (m.get(k) ?? 0) + 1);
};

/** HTTP/1.1: `/fast` answers at once; every other path never answers, and counts its connection closing. */
const startStallingHttp1 = async (t: TestContext): Promise<Stalls> => {
  const started = new Map<string, number>();
  const cancelled = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    bump(started, path);
    if (path === '/fast') {
      res.end('fast');
      return;
    }
    req.socket.on('close', () => bump(cancelled, path));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, started, cancelled };
};

/** h2c: every stream stalls, and counts its reset by the proxy. */
const startStallingHttp2 = async (t: TestContext): Promise<Stalls> => {
  const started = new Map<string, number>();
  const cancelled = new Map<string, number>();
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    bump(started, path);
    stream.on('close', () => {
      if (stream.rstCode !== 0) bump(cancelled, path);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, started, cancelled };
};

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const call = (port: number, agent: Agent, path: string): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: 'web:8080' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A proxy that does not apply the timeout fails the test instead of hanging it.
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end();
  });

/** A unary-shaped gRPC request (an empty message); resolves with the response headers, trailers-only for an error. */
const grpcCall = (session: ClientHttp2Session, path: string): Promise<H2Headers> =>
  new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, ':authority': 'rpc', 'content-type': 'application/grpc', te: 'trailers' });
    let head: H2Headers | undefined;
    s.on('response', (h) => {
      head = h;
    });
    s.on('trailers', (h) => {
      head = { ...head, ...h };
    });
    s.on('data', () => undefined);
    s.on('end', () => (head === undefined ? reject(new Error('no response')) : resolve(head)));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.close(0x8, () => reject(new Error('no answer within 10 s'))));
    s.end(Buffer.from([0, 0, 0, 0, 0]));
  });

describe('route timeouts', () => {
  const ctx = suiteContext();
  let web: Stalls;
  let rpc: Stalls;
  let webPort = 0;
  let session: ClientHttp2Session;
  const agent = new Agent({ keepAlive: true });

  before(async () => {
    web = await startStallingHttp1(ctx);
    rpc = await startStallingHttp2(ctx);
    const dir = await createTmpDir({ prefix: 'route-timeouts', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const prefix = (value: string): object => ({ path: { type: 'PathPrefix', value } });
    const proxy = await startProxy(
      ctx,
      dir,
      snapshot({
        services: [
          {
            name: 'web',
            ports: [{ port: 8080, protocol: 'http' }],
            routes: [
              { name: 'whole', matches: [prefix('/whole')], backendRefs: [{ service: 'web.default' }], timeouts: { requestMs: 300 } },
              { name: 'attempt', matches: [prefix('/attempt')], backendRefs: [{ service: 'web.default' }], timeouts: { requestMs: 60_000, backendRequestMs: 300 } },
              { name: 'rest', matches: [prefix('/')], backendRefs: [{ service: 'web.default' }] },
            ],
          },
          {
            name: 'rpc',
            ports: [{ port: 50051, protocol: 'grpc' }],
            routes: [{ name: 'calls', matches: [{ grpc: {} }], backendRefs: [{ service: 'rpc.default' }], timeouts: { requestMs: 300 } }],
          },
        ],
        endpoints: {
          'web.default': [{ address: '127.0.0.1', port: web.port }],
          'rpc.default': [{ address: '127.0.0.1', port: rpc.port }],
        },
        // No proxy-wide response timeout: only the routes' apply.
        limits: { responseTimeoutMs: 0 },
      }),
      ['--service', 'client', '--upstream', 'web:0', '--upstream', 'rpc:0'],
    );
    webPort = proxy.ports.upstreams['web'] ?? 0;
    session = http2Connect(`http://127.0.0.1:${proxy.ports.upstreams['rpc'] ?? 0}`);
    ctx.after(async () => {
      session.close();
      agent.destroy();
    });
  });
  after(() => ctx.cleanup());

  test('timeouts.request: no response head in time is 504 UT, and the backend request is cancelled', async () => {
    const r = await call(webPort, agent, '/whole');
    assert.equal(r.status, 504, r.body);
    assert.match(String(r.headers['x-weft-error']), /^WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\) .*no response within 300 ms/);
    assert.equal(web.started.get('/whole'), 1, 'one attempt: no retry policy');
    await eventually('the backend connection closed by the proxy', () => web.cancelled.get('/whole') === 1);
  });

  test('timeouts.backendRequest bounds the attempt even under a longer request timeout', async () => {
    const r = await call(webPort, agent, '/attempt');
    assert.equal(r.status, 504, r.body);
    assert.match(String(r.headers['x-weft-error']), /WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\)/);
    await eventually('the backend connection closed by the proxy', () => web.cancelled.get('/attempt') === 1);
  });

  test('a backend that answers in time is not affected; a rule without timeouts keeps the proxy-wide limit', async () => {
    const fast = await call(webPort, agent, '/fast');
    assert.equal(fast.status, 200);
    assert.equal(fast.body, 'fast');
    // `rest` has no timeouts and the proxy-wide limit is 0: a stalled request stays open
    // (well past the routes' 300 ms) until the client gives up.
    const stalled = new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: webPort, path: '/open', headers: { host: 'web:8080' } }, (res) => resolve(`answered ${res.statusCode ?? 0}`));
      req.on('error', () => resolve('closed'));
      req.end();
      setTimeout(() => {
        req.destroy();
      }, 1500);
    });
    assert.equal(await stalled, 'closed', 'no answer while the client waited');
    assert.equal(web.started.get('/open'), 1, JSON.stringify([...web.started]));
    await eventually('the client going away cancels the backend request', () => web.cancelled.get('/open') === 1);
  });

  test('gRPC: timeouts.request ends the call with DEADLINE_EXCEEDED and resets the backend stream', async () => {
    const h = await grpcCall(session, '/pkg.Svc/Slow');
    assert.equal(h[':status'], 200, 'gRPC errors are trailers-only responses');
    assert.equal(h['grpc-status'], '4', `grpc-status ${String(h['grpc-status'])}: ${String(h['grpc-message'])}`);
    assert.match(String(h['x-weft-error']), /WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\)/);
    assert.equal(rpc.started.get('/pkg.Svc/Slow'), 1);
    await eventually('the backend stream reset by the proxy', () => rpc.cancelled.get('/pkg.Svc/Slow') === 1);
  });
});
