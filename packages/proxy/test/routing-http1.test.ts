/**
 * Route rules over HTTP/1.1, end to end through real `weft proxy` processes:
 * client -> outbound proxy -> inbound proxy (v1 or v2) -> echo app. Matches (header,
 * query, method), a weighted split measured over thousands of requests, rewrites and
 * header modifiers seen by the app, a redirect answered by the proxy, mirrors to a healthy,
 * a refused and a stalling target, and 404 NR for what no rule matches.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createTmpDir, freePort, readBodyDigest, startHttp1Echo, type EchoReplyBody, type Http1Echo } from '@weft/testing';
import { adminGet, eventually, type ProxyProcess, snapshot, startProxy, suiteContext, type TestContext } from './http1-mesh-fixture.js';

/** Runs cleanups registered during `before`, in reverse, in `after`. */
interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request to the outbound proxy's `svc` listener on a keep-alive agent. */
const call = (port: number, agent: Agent, path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent, headers: { host: 'svc:9080', ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });

const echoOf = (r: Reply): EchoReplyBody => JSON.parse(r.body.toString('utf8')) as EchoReplyBody;

/** Runs `n` calls with at most `concurrency` at once; returns every reply. */
const many = async (n: number, concurrency: number, one: (i: number) => Promise<Reply>): Promise<Reply[]> => {
  const out: Reply[] = new Array<Reply>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) out[i] = await one(i);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
};

/** What a mirror target saw of one request. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly host: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** An HTTP/1.1 server that records every request and answers 200. */
const startRecorder = async (t: TestContext): Promise<{ port: number; seen: Seen[] }> => {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    void readBodyDigest(req).then(({ sha256, bytes }) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', sha256, bytes });
      res.end('mirror reply that nobody reads');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(() => r(undefined))));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr !== null ? addr.port : 0, seen };
};

/** A TCP server that accepts connections and reads requests, but never answers. */
const startStaller = async (t: TestContext): Promise<{ port: number; open: Set<Socket>; accepted: () => number }> => {
  const open = new Set<Socket>();
  let accepted = 0;
  const server: TcpServer = createTcpServer((s) => {
    accepted++;
    open.add(s);
    s.on('data', () => {});
    s.on('error', () => {});
    s.once('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(() => r(undefined)));
  });
  const addr = server.address();
  return { port: typeof addr === 'object' && addr !== null ? addr.port : 0, open, accepted: () => accepted };
};

/** The value of `weft_proxy_mirror_requests_total{outcome}` on a proxy. */
const mirrorCount = async (p: ProxyProcess, outcome: string): Promise<number> => {
  const m = new RegExp(`^weft_proxy_mirror_requests_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec((await adminGet(p, '/metrics')).text);
  return m === null ? 0 : Number(m[1]);
};

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('route rules over HTTP/1.1 through real proxies', () => {
  const ctx = suiteContext();
  let v1: Http1Echo;
  let v2: Http1Echo;
  let outbound: ProxyProcess;
  let port: number;
  let agent: Agent;
  let recorder: { port: number; seen: Seen[] };
  let staller: { port: number; open: Set<Socket>; accepted: () => number };

  before(async () => {
    v1 = await startHttp1Echo({ name: 'v1' });
    ctx.after(v1.close);
    v2 = await startHttp1Echo({ name: 'v2' });
    ctx.after(v2.close);
    recorder = await startRecorder(ctx);
    staller = await startStaller(ctx);
    // Nothing listens here: connecting is refused.
    const refusedPort = await freePort();
    const dir = await createTmpDir({ prefix: 'routing-h1', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const [in1, in2] = await Promise.all(
      [v1, v2].map(async (app) => {
        const inboundPort = await freePort();
        await startProxy(ctx, dir, snapshot({}), ['--service', 'svc', '--port', String(inboundPort), '--app-port', String(app.port)]);
        return inboundPort;
      }),
    );
    const to = (version: string, weight = 1): object => ({ service: 'svc.default', subset: { version }, weight });
    const prefix = (value: string): object => ({ path: { type: 'PathPrefix', value } });
    const mirrorTo = (service: string): object => ({ type: 'RequestMirror', requestMirror: { service } });
    const routes = [
      { name: 'redirect', matches: [prefix('/old-site')], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'new.example', statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/site' } } }], backendRefs: [] },
      {
        name: 'rewrite',
        matches: [prefix('/old')],
        filters: [
          { type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.internal', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/echo/new' } } },
          { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-env', value: 'prod' }], add: [{ name: 'x-trace', value: 'mesh' }], remove: ['x-debug'] } },
          { type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [{ name: 'x-resp', value: 'yes' }], remove: ['x-served-by'] } },
        ],
        backendRefs: [to('v1')],
      },
      { name: 'mirror-ok', matches: [prefix('/echo/mirror-ok')], filters: [mirrorTo('recorder.default')], backendRefs: [to('v1')] },
      { name: 'mirror-refused', matches: [prefix('/echo/mirror-refused')], filters: [mirrorTo('refused.default')], backendRefs: [to('v1')] },
      { name: 'mirror-stall', matches: [prefix('/echo/mirror-stall')], filters: [mirrorTo('staller.default')], backendRefs: [to('v1')] },
      { name: 'split', matches: [prefix('/echo/split')], backendRefs: [to('v1', 95), to('v2', 5)] },
      { name: 'ab-posts', matches: [{ ...prefix('/echo/ab'), method: 'POST' }], backendRefs: [to('v2')] },
      { name: 'ab-beta', matches: [{ ...prefix('/echo/ab'), headers: [{ name: 'x-user', value: 'beta' }] }], backendRefs: [to('v2')] },
      { name: 'ab-query', matches: [{ ...prefix('/echo/ab'), queryParams: [{ name: 'version', value: 'v2' }] }], backendRefs: [to('v2')] },
      { name: 'ab-ids', matches: [{ path: { type: 'RegularExpression', value: '/echo/ab/item-[0-9]+' }, headers: [{ type: 'RegularExpression', name: 'x-user', value: 'gamma|delta' }] }], backendRefs: [to('v2')] },
      { name: 'ab', matches: [prefix('/echo/ab')], backendRefs: [to('v1')] },
    ];
    outbound = await startProxy(
      ctx,
      dir,
      snapshot({
        services: [{ name: 'svc', ports: [{ port: 9080, protocol: 'http' }], routes }],
        endpoints: {
          'svc.default': [
            { address: '127.0.0.1', port: in1 ?? 0, labels: { version: 'v1' } },
            { address: '127.0.0.1', port: in2 ?? 0, labels: { version: 'v2' } },
          ],
          'recorder.default': [{ address: '127.0.0.1', port: recorder.port }],
          'refused.default': [{ address: '127.0.0.1', port: refusedPort }],
          'staller.default': [{ address: '127.0.0.1', port: staller.port }],
        },
      }),
      ['--service', 'client', '--upstream', 'svc:0'],
    );
    port = outbound.ports.upstreams['svc'] ?? 0;
    agent = new Agent({ keepAlive: true, maxSockets: 16 });
    ctx.after(async () => agent.destroy());
  });
  after(() => ctx.cleanup());

  test('A/B by header, query parameter and method; others to v1', async () => {
    const servedBy = async (path: string, opts: Parameters<typeof call>[3] = {}): Promise<string> => {
      const r = await call(port, agent, path, opts);
      assert.equal(r.status, 200, r.body.toString());
      return String(r.headers['x-served-by']);
    };
    for (let i = 0; i < 5; i++) {
      assert.equal(await servedBy('/echo/ab', { headers: { 'x-user': 'beta' } }), 'v2');
      assert.equal(await servedBy('/echo/ab', { headers: { 'X-User': 'alpha' } }), 'v1');
      assert.equal(await servedBy('/echo/ab'), 'v1');
    }
    assert.equal(await servedBy('/echo/ab?version=v2&x=1'), 'v2');
    assert.equal(await servedBy('/echo/ab?version=v1'), 'v1');
    assert.equal(await servedBy('/echo/ab?x=1&version=v2'), 'v2');
    assert.equal(await servedBy('/echo/ab', { method: 'POST', body: Buffer.from('{}') }), 'v2');
    assert.equal(await servedBy('/echo/ab', { method: 'PUT', body: Buffer.from('{}') }), 'v1');
    assert.equal(await servedBy('/echo/ab/item-42', { headers: { 'x-user': 'delta' } }), 'v2');
    assert.equal(await servedBy('/echo/ab/item-42x', { headers: { 'x-user': 'delta' } }), 'v1', 'the expression matches the whole path');
    assert.equal(await servedBy('/echo/ab/item-42', { headers: { 'x-user': 'deltas' } }), 'v1', 'and the whole header value');
  });

  test('a request no rule matches gets 404 with flag NR, naming the service', async () => {
    const r = await call(port, agent, '/echo/abc?x=1');
    assert.equal(r.status, 404);
    assert.match(String(r.headers['x-weft-error']), /^WEFT_ERR_PROXY_NO_ROUTE \(NR\) at outbound proxy=client\.default service=svc\.default: no route of svc\.default matches GET \/echo\/abc\?x=1$/);
    const before = v1.requests + v2.requests;
    assert.equal((await call(port, agent, '/')).status, 404);
    assert.equal(v1.requests + v2.requests, before, 'nothing was forwarded');
  });

  test('a 95/5 split holds over thousands of requests (5 sigma bounds)', async () => {
    const n = 4000;
    const replies = await many(n, 16, () => call(port, agent, '/echo/split'));
    assert.ok(replies.every((r) => r.status === 200));
    const toV2 = replies.filter((r) => r.headers['x-served-by'] === 'v2').length;
    const toV1 = replies.filter((r) => r.headers['x-served-by'] === 'v1').length;
    assert.equal(toV1 + toV2, n);
    // Binomial(4000, 0.05): mean 200, standard deviation 13.8; 5 sigma is 69.
    assert.ok(Math.abs(toV2 - 200) <= 69, `${toV2} of ${n} went to v2`);
  });

  test('URL rewrite and header modifiers: the app sees the rewritten request, the client the modified response', async () => {
    const r = await call(port, agent, '/old/thing?q=1', { headers: { 'x-debug': 'on', 'x-trace': 'client', 'x-env': 'dev' } });
    assert.equal(r.status, 200, r.body.toString());
    const e = echoOf(r);
    assert.equal(e.url, '/echo/new/thing?q=1');
    assert.equal(e.headers.host, 'rewritten.internal');
    assert.equal(e.headers['x-env'], 'prod');
    assert.equal(e.headers['x-trace'], 'client,mesh');
    assert.equal(e.headers['x-debug'], undefined);
    assert.equal(r.headers['x-resp'], 'yes');
    assert.equal(r.headers['x-served-by'], undefined, 'removed from the response');
    // A body passes through a rule with filters intact.
    const body = Buffer.alloc(200_000, 7);
    const posted = await call(port, agent, '/old', { method: 'POST', body });
    assert.equal(echoOf(posted).url, '/echo/new');
    assert.equal(echoOf(posted).bodySha256, sha256(body));
  });

  test('a redirect is answered by the proxy with Location, and nothing is forwarded', async () => {
    const before = v1.requests + v2.requests;
    const r = await call(port, agent, '/old-site/page?x=1');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, 'http://new.example:9080/site/page?x=1');
    assert.equal(r.headers['content-length'], '0');
    const posted = await call(port, agent, '/old-site', { method: 'POST', body: Buffer.alloc(10_000, 1) });
    assert.equal(posted.status, 301);
    assert.equal(posted.headers.location, 'http://new.example:9080/site');
    assert.equal(v1.requests + v2.requests, before);
    // The connection stays usable after a redirect that did not read the body.
    assert.equal((await call(port, agent, '/echo/ab')).status, 200);
  });

  test('mirror: the target gets a copy of each request (body too); callers are answered by the backend', async () => {
    const completed = await mirrorCount(outbound, 'completed');
    const small = Buffer.alloc(1000, 3);
    const large = Buffer.alloc(100 * 1024, 4);
    const replies = [
      ...(await many(20, 4, (i) => call(port, agent, `/echo/mirror-ok/${i}?n=${i}`))),
      ...(await many(5, 5, () => call(port, agent, '/echo/mirror-ok/post', { method: 'POST', body: small }))),
      await call(port, agent, '/echo/mirror-ok/large', { method: 'POST', body: large }),
    ];
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-served-by'], 'v1');
    }
    assert.equal(echoOf(replies[25] as Reply).bodySha256, sha256(large), 'the request too large to mirror is forwarded whole');
    await eventually('25 copies at the mirror', () => recorder.seen.length >= 25);
    const gets = recorder.seen.filter((s) => s.method === 'GET');
    assert.equal(gets.length, 20);
    assert.deepEqual(new Set(gets.map((s) => s.url)), new Set(Array.from({ length: 20 }, (_, i) => `/echo/mirror-ok/${i}?n=${i}`)));
    assert.ok(recorder.seen.every((s) => s.host === 'svc-shadow:9080'), 'copies are marked -shadow');
    const posts = recorder.seen.filter((s) => s.method === 'POST');
    assert.equal(posts.length, 5, 'the request over 64 KiB is not mirrored');
    assert.ok(posts.every((s) => s.sha256 === sha256(small) && s.bytes === small.length));
    await eventually('mirrors counted', async () => (await mirrorCount(outbound, 'completed')) - completed === 25);
    assert.equal(await mirrorCount(outbound, 'dropped_body_too_large'), 1);
  });

  test('mirror to a target that refuses connections: no caller fails, the failures are counted', async () => {
    const failed = await mirrorCount(outbound, 'failed');
    const replies = await many(40, 8, (i) => call(port, agent, `/echo/mirror-refused/${i}`, i % 2 === 0 ? {} : { method: 'POST', body: Buffer.from('x') }));
    assert.ok(replies.every((r) => r.status === 200 && r.headers['x-served-by'] === 'v1'), 'every caller got the backend\'s answer');
    await eventually('40 failed mirrors counted', async () => (await mirrorCount(outbound, 'failed')) - failed === 40);
  });

  test('mirror to a target that never answers: callers are answered while the copies hang, and the excess is dropped', async () => {
    const dropped = await mirrorCount(outbound, 'dropped_in_flight_limit');
    const n = 100;
    const replies = await many(n, 10, (i) => call(port, agent, `/echo/mirror-stall/${i}`));
    assert.ok(replies.every((r) => r.status === 200 && r.headers['x-served-by'] === 'v1'), 'every caller got the backend\'s answer');
    // Every caller is done, and the stalled copies are still open: nobody waited for them.
    assert.ok(staller.open.size > 0, 'mirrors are still waiting at the stalled target');
    assert.ok(staller.accepted() > 0);
    const active = /^weft_proxy_mirror_requests_active (\d+)$/m.exec((await adminGet(outbound, '/metrics')).text);
    assert.equal(Number(active?.[1]), 64, 'the in-flight limit is reached, not exceeded');
    assert.equal((await mirrorCount(outbound, 'dropped_in_flight_limit')) - dropped, n - 64);
  });
});
