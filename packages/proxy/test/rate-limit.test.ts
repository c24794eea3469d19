/**
 * Local rate limiting end to end, with real `weft proxy` processes from snapshot files and
 * static mutual TLS from the test PKI: callers `client` and `other` -> the server proxy of
 * `svc` (its snapshot's `inbound.rateLimits`) -> an HTTP/1.1 app that counts what reaches
 * it; and client -> the server proxy of `grpcsvc` -> a gRPC app. Each test uses a policy of
 * its own name, so it starts with fresh buckets.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createTestPki, createTmpDir, freePort, grpcEchoClient, startGrpcEcho, startHttp1Echo, type GrpcEcho, type Http1Echo } from '@weft/testing';
import { adminGet, eventually, metric, type ProxyProcess, snapshot, startProxy, type TestContext, tlsTransport, waitForVersion, upstreamPortOf } from './http1-mesh-fixture.js';

const TD = 'test.local';
const HOUR = 3_600_000;

interface World {
  readonly app: Http1Echo;
  readonly grpcApp: GrpcEcho;
  readonly server: ProxyProcess;
  readonly grpcServer: ProxyProcess;
  readonly serverSnapshot: (rateLimits: object[], routesVersion: string) => object;
  readonly grpcSnapshot: (rateLimits: object[], routesVersion: string) => object;
  readonly client: { svc: number; grpcsvc: number };
  readonly other: { svc: number };
}

let world: World | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
const ctx: TestContext = { after: (fn) => cleanups.push(fn) };

/** One policy with one limit. */
const policy = (name: string, limit: Record<string, unknown>): object => ({ policy: `default/${name}`, limits: [{ name: 'main', ...limit }] });

before(async () => {
  const dir = await createTmpDir({ prefix: 'ratelimit' });
  cleanups.push(() => dir.remove());
  const pki = await createTestPki(dir.join('pki'), ['client', 'other', 'server'], { trustDomain: TD });
  const app = await startHttp1Echo({ name: 'svc-app' });
  cleanups.push(app.close);
  const grpcApp = await startGrpcEcho({ name: 'grpc-app' });
  cleanups.push(grpcApp.close);
  const [serverPort, grpcPort] = [await freePort(), await freePort()];
  const serverSnapshot = (rateLimits: object[], routesVersion: string): object => ({
    ...snapshot({ routesVersion, transport: tlsTransport(pki, 'server') }),
    inbound: { rateLimits },
  });
  const callerSnapshot = (name: string): object =>
    snapshot({
      services: [
        { name: 'svc', ports: [{ port: 9080, protocol: 'http' }] },
        { name: 'grpcsvc', ports: [{ port: 50051, protocol: 'grpc' }] },
      ],
      endpoints: { 'svc.default': [{ address: '127.0.0.1', port: serverPort }], 'grpcsvc.default': [{ address: '127.0.0.1', port: grpcPort }] },
      transport: tlsTransport(pki, name),
    });
  const [server, grpcServer, client, other] = await Promise.all([
    startProxy(ctx, dir, serverSnapshot([], 'r0'), ['--service', 'svc', '--port', String(serverPort), '--app-port', String(app.port)]),
    startProxy(ctx, dir, serverSnapshot([], 'r0'), ['--service', 'grpcsvc', '--port', String(grpcPort), '--app-port', String(grpcApp.port), '--app-protocol', 'grpc']),
    startProxy(ctx, dir, callerSnapshot('client'), ['--service', 'client', '--upstream', 'svc:0', '--upstream', 'grpcsvc:0']),
    startProxy(ctx, dir, callerSnapshot('other'), ['--service', 'other', '--upstream', 'svc:0']),
  ]);
  world = {
    app,
    grpcApp,
    server,
    grpcServer,
    serverSnapshot,
    grpcSnapshot: serverSnapshot,
    client: { svc: upstreamPortOf(client, 'svc'), grpcsvc: upstreamPortOf(client, 'grpcsvc') },
    other: { svc: upstreamPortOf(other, 'svc') },
  };
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

const w = (): World => {
  assert.ok(world !== undefined, 'the mesh is started before the tests');
  return world;
};

let version = 0;
/** Puts `rateLimits` into the svc proxy's snapshot and waits until it runs it. */
const limitSvc = async (rateLimits: object[]): Promise<void> => {
  const v = `r${++version}`;
  await w().server.writeConfig(w().serverSnapshot(rateLimits, v));
  await waitForVersion(w().server, `${v}/e1`);
};

interface Answer {
  readonly status: number;
  readonly headers: Headers;
}

const call = async (port: number, headers: Record<string, string> = {}, path = '/hello', method = 'GET'): Promise<Answer> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return { status: res.status, headers: res.headers };
};

/** Statuses of `n` requests sent one after another. */
const statuses = async (n: number, port: number, headers: Record<string, string> = {}): Promise<number[]> => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(port, headers)).status);
  return out;
};

const count = (list: readonly number[], s: number): number => list.filter((x) => x === s).length;

describe('local rate limits in the callee proxy', { timeout: 120_000 }, () => {
  test('a bucket that does not refill during the test admits exactly its capacity; refusals are 429 RL with the rate-limit headers', async () => {
    await limitSvc([policy('exact', { tokens: 5, burst: 5, intervalMs: HOUR, key: { type: 'OVERALL' } })]);
    const before = w().app.requests;
    const got = await statuses(5, w().client.svc);
    assert.deepEqual(got, [200, 200, 200, 200, 200]);
    const refused = await call(w().client.svc);
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('x-weft-error') ?? '', /^WEFT_ERR_PROXY_RATE_LIMITED \(RL\) at inbound proxy=svc\.default service=svc\.default: RateLimitPolicy default\/exact limit "main"/);
    assert.equal(refused.headers.get('ratelimit-policy'), '"main";q=5;w=3600');
    assert.match(refused.headers.get('ratelimit') ?? '', /^"main";r=0;t=\d+$/);
    assert.equal(refused.headers.get('x-ratelimit-limit'), '5');
    assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 3000 && retryAfter <= 3600, `retry-after ${retryAfter}: until the next fill, within the hour`);
    const rest = await statuses(14, w().client.svc);
    assert.equal(count(rest, 429), 14, 'nothing more is admitted');
    assert.equal(w().app.requests - before, 5, 'refused requests never reach the app');
  });

  test('with refills, N requests are admitted within the bound the fills allow', async () => {
    const C = 4;
    const R = 2;
    const I = 400;
    await limitSvc([policy('refill', { tokens: R, burst: C, intervalMs: I })]);
    const t0 = performance.now();
    const first = await call(w().client.svc);
    const firstDone = performance.now();
    const got = [first.status];
    let lastStart = firstDone;
    // Requests one after another for at least 5 intervals, so that several fills count.
    while (got.length < 20 || performance.now() - t0 < 5 * I) {
      lastStart = performance.now();
      got.push((await call(w().client.svc)).status);
    }
    const t1 = performance.now();
    const allowed = count(got, 200);
    assert.equal(allowed + count(got, 429), got.length, `only 200 and 429: ${got.join(',')}`);
    // The bucket is made when the first request arrives (after t0, before firstDone), and the
    // fills that count land before the last request arrives (after lastStart, before t1).
    // Requests come far faster than R per I, so no fill lands on a full bucket past the first C.
    const most = C + R * Math.floor((t1 - t0) / I);
    const least = C + R * Math.max(0, Math.floor((lastStart - firstDone) / I));
    assert.ok(allowed >= least && allowed <= most, `admitted ${allowed}, expected from ${least} to ${most} (elapsed ${Math.round(t1 - t0)} ms)`);
  });

  test('HEADER keys: each value has its own bucket; requests without the header share one', async () => {
    await limitSvc([policy('by-user', { tokens: 2, burst: 2, intervalMs: HOUR, key: { type: 'HEADER', name: 'x-user-id' } })]);
    assert.deepEqual(await statuses(3, w().client.svc, { 'x-user-id': 'alice' }), [200, 200, 429]);
    assert.deepEqual(await statuses(3, w().client.svc, { 'x-user-id': 'bob' }), [200, 200, 429]);
    assert.deepEqual(await statuses(3, w().client.svc), [200, 200, 429]);
    assert.deepEqual(await statuses(1, w().client.svc, { 'x-user-id': 'alice' }), [429], 'alice stays refused');
  });

  test('SOURCE_IDENTITY keys: each caller identity has its own bucket', async () => {
    await limitSvc([policy('by-caller', { tokens: 2, burst: 2, intervalMs: HOUR, key: { type: 'SOURCE_IDENTITY' } })]);
    assert.deepEqual(await statuses(3, w().client.svc), [200, 200, 429]);
    assert.deepEqual(await statuses(3, w().other.svc), [200, 200, 429]);
  });

  test('a policy refused by one limit takes no token from its other limits', async () => {
    await limitSvc([
      {
        policy: 'default/two-limits',
        limits: [
          { name: 'overall', tokens: 3, burst: 3, intervalMs: HOUR },
          { name: 'per-user', tokens: 1, burst: 1, intervalMs: HOUR, key: { type: 'HEADER', name: 'x-user-id' } },
        ],
      },
    ]);
    // alice's second and third calls are refused by per-user, without using up overall.
    assert.deepEqual(await statuses(3, w().client.svc, { 'x-user-id': 'alice' }), [200, 429, 429]);
    const bob = await call(w().client.svc, { 'x-user-id': 'bob' });
    assert.equal(bob.status, 200);
    const carol = await call(w().client.svc, { 'x-user-id': 'carol' });
    assert.equal(carol.status, 200);
    const dave = await call(w().client.svc, { 'x-user-id': 'dave' });
    assert.equal(dave.status, 429, 'overall is now empty');
    assert.match(dave.headers.get('x-weft-error') ?? '', /limit "overall"/);
    assert.equal(dave.headers.get('ratelimit-policy'), '"overall";q=3;w=3600, "per-user";q=1;w=3600');
  });

  test('gRPC callers get RESOURCE_EXHAUSTED', async () => {
    await w().grpcServer.writeConfig(w().grpcSnapshot([policy('grpc', { tokens: 2, burst: 2, intervalMs: HOUR })], 'g1'));
    await waitForVersion(w().grpcServer, 'g1/e1');
    const grpc = grpcEchoClient(`127.0.0.1:${w().client.grpcsvc}`);
    try {
      const before = w().grpcApp.calls;
      for (let i = 0; i < 2; i++) assert.equal((await grpc.unary({ message: 'hi' })).code, status.OK);
      const refused = await grpc.unary({ message: 'hi' });
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED, refused.details);
      assert.match(refused.details, /WEFT_ERR_PROXY_RATE_LIMITED \(RL\) at inbound proxy=grpcsvc\.default/);
      assert.equal(w().grpcApp.calls - before, 2);
    } finally {
      grpc.close();
    }
  });

  test('refusals are counted by policy and limit, and as RL in istio_requests_total', async () => {
    await eventually('the svc proxy counts the refusals', async () => {
      const text = (await adminGet(w().server, '/metrics')).text;
      return (metric(text, 'weft_proxy_rate_limited_requests_total', { policy: 'default/exact', limit: 'main' }) ?? 0) === 15;
    });
    const text = (await adminGet(w().server, '/metrics')).text;
    assert.equal(metric(text, 'weft_proxy_rate_limited_requests_total', { policy: 'default/by-user', limit: 'main' }), 4);
    assert.ok((metric(text, 'istio_requests_total', { reporter: 'destination', response_code: '429', response_flags: 'RL' }) ?? 0) >= 15);
  });

  test('a policy with matches (a policy on a route) counts and refuses only the requests that meet one of them', async () => {
    await limitSvc([
      {
        ...policy('writes', { tokens: 2, burst: 2, intervalMs: HOUR }),
        matches: [{ path: { type: 'PathPrefix', value: '/hello' }, method: 'POST' }, { headers: [{ type: 'Exact', name: 'x-beta', value: '1' }], queryParams: [{ type: 'Exact', name: 'v', value: '2' }] }],
      },
    ]);
    const before = w().app.requests;
    assert.deepEqual(await statuses(4, w().client.svc), [200, 200, 200, 200], 'GET /hello meets no match: never counted');
    const post = async (): Promise<number> => (await call(w().client.svc, {}, '/hello', 'POST')).status;
    assert.deepEqual([await post(), await post()], [200, 200]);
    const refused = await call(w().client.svc, { 'x-beta': '1' }, '/hello?v=2');
    assert.equal(refused.status, 429, 'the second match: the same bucket, now empty');
    assert.match(refused.headers.get('x-weft-error') ?? '', /RateLimitPolicy default\/writes limit "main"/);
    assert.equal(await post(), 429);
    assert.equal((await call(w().client.svc, { 'x-beta': '1' }, '/hello?v=3')).status, 200, 'query parameter differs: not a match');
    assert.deepEqual(await statuses(2, w().client.svc), [200, 200], 'requests outside the matches go on');
    assert.equal(w().app.requests - before, 9, 'refused requests never reach the app');
  });

  test('a policy removed from the config stops limiting', async () => {
    await limitSvc([policy('gone', { tokens: 1, burst: 1, intervalMs: HOUR })]);
    assert.deepEqual(await statuses(2, w().client.svc), [200, 429]);
    await limitSvc([]);
    assert.deepEqual(await statuses(3, w().client.svc), [200, 200, 200]);
  });
});
