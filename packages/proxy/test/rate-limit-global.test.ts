/**
 * `mode: GLOBAL` rate limits against a real `redis-server` on loopback: the RESP connection
 * (replies, deadlines, a server that never answers, a bounded queue), the shared token
 * bucket script, and two real `weft proxy` replicas of one Service drawing from the same
 * buckets, with failureMode OPEN and CLOSED when Redis is killed mid-test.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { InboundRateLimitSchema, type InboundRateLimit } from '@weft/api/data-plane';
import { createTmpDir, freePort, startHttp1Echo, type Http1Echo } from '@weft/testing';
import { readH2Header } from '../src/authz/header-readers.js';
import { GlobalRateLimiter, KEY_PREFIX } from '../src/ratelimit/global-rate-limiter.js';
import { InboundRateLimits } from '../src/ratelimit/inbound-rate-limits.js';
import { RedisConnection, RedisUnavailableError } from '../src/ratelimit/redis/redis-connection.js';
import { RespError } from '../src/ratelimit/redis/resp.js';
import { snapshot, startProxy, waitForVersion, type ProxyProcess, type TestContext, upstreamPortOf } from './http1-mesh-fixture.js';
import { startTestRedis, type TestRedis } from './redis-fixture.js';

const HOUR = 3_600_000;
const cleanups: (() => Promise<unknown>)[] = [];
const ctx: TestContext & { after: (fn: () => Promise<void>) => void } = { after: (fn) => cleanups.push(fn) };
let redis: TestRedis | undefined;

before(async () => {
  redis = await startTestRedis(ctx);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

const r = (): TestRedis => {
  assert.ok(redis !== undefined);
  return redis;
};

const globalPolicy = (name: string, limits: object[], failureMode: 'OPEN' | 'CLOSED' = 'OPEN', address = r().address): InboundRateLimit =>
  InboundRateLimitSchema.parse({ policy: `default/${name}`, limits, redis: { address, failureMode, timeoutMs: 200 } });

describe('RESP connection to a real redis-server', () => {
  test('commands get their replies, in order, pipelined; error replies are values', async () => {
    const c = new RedisConnection({ host: '127.0.0.1', port: r().port });
    try {
      const replies = await Promise.all([c.command(['PING'], 1000), c.command(['SET', 'weft:test:k', 'v'], 1000), c.command(['GET', 'weft:test:k'], 1000), c.command(['GET', 'weft:test:none'], 1000)]);
      assert.deepEqual(replies, ['PONG', 'OK', 'v', null]);
      const err = await c.command(['NOSUCHCOMMAND'], 1000);
      assert.ok(err instanceof RespError);
      assert.equal(err.kind, 'ERR');
    } finally {
      c.close();
    }
  });

  test('a server that never answers costs a command its deadline, no more, and the queue is bounded', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const c = new RedisConnection({ host: '127.0.0.1', port, maxPending: 2, reconnectDelayMs: 50 });
    try {
      const first = c.command(['PING'], 150);
      const second = c.command(['PING'], 150);
      await assert.rejects(c.command(['PING'], 150), /more than 2 commands awaiting Redis/);
      await assert.rejects(first, RedisUnavailableError);
      await assert.rejects(second, RedisUnavailableError);
      assert.equal(c.inFlight, 0, 'the silent connection was dropped with its queue');
      await assert.rejects(c.command(['PING'], 150), /Redis unreachable/, 'fails fast during the reconnect delay');
    } finally {
      c.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('nothing listening: the command fails with the connection error', async () => {
    const c = new RedisConnection({ host: '127.0.0.1', port: await freePort() });
    await assert.rejects(c.command(['PING'], 1000), /Redis connection failed: .*ECONNREFUSED/);
    c.close();
  });
});

describe('shared token buckets in Redis', () => {
  const peer = { principal: 'spiffe://td/ns/default/sa/client', namespace: 'default', serviceAccount: 'client' };

  test('two replicas share one bucket: together they admit exactly its capacity', async () => {
    const shared = new GlobalRateLimiter();
    const a = new InboundRateLimits({ proxy: 'svc.default', shared });
    const b = new InboundRateLimits({ proxy: 'svc.default', shared: new GlobalRateLimiter() });
    const policies = [globalPolicy('shared', [{ name: 'main', tokens: 5, burst: 5, intervalMs: HOUR }])];
    let admitted = 0;
    for (let i = 0; i < 12; i++) {
      const e = await (i % 2 === 0 ? a : b).check(policies, peer, '', 'GET', '/', {}, readH2Header);
      if (e === undefined) admitted++;
      else {
        assert.equal(e.code, 'WEFT_ERR_PROXY_RATE_LIMITED');
        const headers = Object.fromEntries(e.extras?.headers ?? []);
        assert.equal(headers['ratelimit-policy'], '"main";q=5;w=3600');
        assert.equal(headers['x-ratelimit-remaining'], '0');
      }
    }
    assert.equal(admitted, 5);
    shared.close();
  });

  test('a request refused by one limit takes nothing from the others; keys are per header value', async () => {
    const limits = new InboundRateLimits({ proxy: 'svc.default', shared: new GlobalRateLimiter() });
    const policies = [
      globalPolicy('two', [
        { name: 'overall', tokens: 3, burst: 3, intervalMs: HOUR },
        { name: 'per-user', tokens: 1, burst: 1, intervalMs: HOUR, key: { type: 'HEADER', name: 'x-user' } },
      ]),
    ];
    const as = (user: string) => limits.check(policies, peer, '', 'GET', '/', { 'x-user': user }, readH2Header);
    assert.equal(await as('alice'), undefined);
    assert.match((await as('alice'))?.message ?? '', /limit "per-user"/);
    assert.equal(await as('bob'), undefined);
    assert.equal(await as('carol'), undefined);
    assert.match((await as('dave'))?.message ?? '', /limit "overall"/);
  });

  test('buckets refill in whole fills on Redis time', async () => {
    const limits = new InboundRateLimits({ proxy: 'svc.default', shared: new GlobalRateLimiter() });
    const policies = [globalPolicy('refill', [{ name: 'main', tokens: 1, burst: 1, intervalMs: 300 }])];
    assert.equal(await limits.check(policies, peer, '', 'GET', '/', {}, readH2Header), undefined);
    const refused = await limits.check(policies, peer, '', 'GET', '/', {}, readH2Header);
    assert.ok(refused !== undefined);
    await new Promise((resolve) => setTimeout(resolve, 350));
    assert.equal(await limits.check(policies, peer, '', 'GET', '/', {}, readH2Header), undefined, 'a fill landed after one interval');
  });

  test('after SCRIPT FLUSH (or a Redis restart) the script is loaded again', async () => {
    const c = new RedisConnection({ host: '127.0.0.1', port: r().port });
    assert.equal(await c.command(['SCRIPT', 'FLUSH'], 1000), 'OK');
    c.close();
    const limits = new InboundRateLimits({ proxy: 'svc.default', shared: new GlobalRateLimiter() });
    assert.equal(await limits.check([globalPolicy('flushed', [{ name: 'main', tokens: 1, burst: 1, intervalMs: HOUR }])], peer, '', 'GET', '/', {}, readH2Header), undefined);
    assert.ok((await limits.check([globalPolicy('flushed', [{ name: 'main', tokens: 1, burst: 1, intervalMs: HOUR }])], peer, '', 'GET', '/', {}, readH2Header)) !== undefined);
  });

  test('keys expire once they would have refilled', async () => {
    const c = new RedisConnection({ host: '127.0.0.1', port: r().port });
    try {
      const keys = await c.command(['KEYS', `${KEY_PREFIX}default/shared|*`], 1000);
      assert.ok(Array.isArray(keys) && keys.length === 1, `one bucket key: ${JSON.stringify(keys)}`);
      const ttl = await c.command(['PTTL', keys[0] as string], 1000);
      assert.ok(typeof ttl === 'number' && ttl > HOUR && ttl <= 7 * HOUR, `ttl ${String(ttl)}`);
    } finally {
      c.close();
    }
  });
});

describe('two proxy replicas of one Service with a GLOBAL policy', { timeout: 120_000 }, () => {
  interface Replicas {
    readonly app: Http1Echo;
    readonly replicas: ProxyProcess[];
    readonly caller: number;
    readonly apply: (policies: InboundRateLimit[], version: string) => Promise<void>;
  }
  let world: Replicas | undefined;

  before(async () => {
    const dir = await createTmpDir({ prefix: 'ratelimit-global' });
    cleanups.push(() => dir.remove());
    const app = await startHttp1Echo({ name: 'svc-app' });
    cleanups.push(app.close);
    const ports = [await freePort(), await freePort()];
    const serverSnapshot = (rateLimits: InboundRateLimit[], routesVersion: string): object => ({ ...snapshot({ routesVersion }), inbound: { rateLimits } });
    const replicas = await Promise.all(ports.map((p) => startProxy(ctx, dir, serverSnapshot([], 'r0'), ['--service', 'svc', '--port', String(p), '--app-port', String(app.port)])));
    const caller = await startProxy(
      ctx,
      dir,
      snapshot({ services: [{ name: 'svc', ports: [{ port: 9080, protocol: 'http' }] }], endpoints: { 'svc.default': ports.map((port) => ({ address: '127.0.0.1', port })) } }),
      ['--service', 'client', '--upstream', 'svc:0'],
    );
    const callerPort = upstreamPortOf(caller, 'svc');
    world = {
      app,
      replicas,
      caller: callerPort,
      apply: async (policies, version) => {
        await Promise.all(replicas.map((p) => p.writeConfig(serverSnapshot(policies, version))));
        await Promise.all(replicas.map((p) => waitForVersion(p, `${version}/e1`)));
      },
    };
  });

  const w = (): Replicas => {
    assert.ok(world !== undefined);
    return world;
  };

  const statuses = async (n: number): Promise<{ status: number; error: string }[]> => {
    const out: { status: number; error: string }[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${w().caller}/hello`, { signal: AbortSignal.timeout(15_000) });
      await res.arrayBuffer();
      out.push({ status: res.status, error: res.headers.get('x-weft-error') ?? '' });
    }
    return out;
  };

  test('requests spread over both replicas: together they admit exactly the shared capacity', async () => {
    await w().apply([globalPolicy('replicas', [{ name: 'main', tokens: 6, burst: 6, intervalMs: HOUR }])], 'r1');
    const before = w().app.requests;
    const got = await statuses(20);
    assert.equal(got.filter((g) => g.status === 200).length, 6, JSON.stringify(got));
    assert.equal(got.filter((g) => g.status === 429).length, 14);
    assert.equal(w().app.requests - before, 6);
  });

  test('Redis killed mid-test: OPEN admits every request, CLOSED refuses them; Redis back, limits again', async () => {
    await w().apply(
      [globalPolicy('open', [{ name: 'main', tokens: 2, burst: 2, intervalMs: HOUR }], 'OPEN'), globalPolicy('closed', [{ name: 'main', tokens: 100, burst: 100, intervalMs: HOUR }], 'CLOSED')],
      'r2',
    );
    assert.deepEqual((await statuses(3)).map((g) => g.status), [200, 200, 429], 'limited while Redis is up');
    await r().kill();
    // OPEN alone: admitted, unchecked.
    await w().apply([globalPolicy('open2', [{ name: 'main', tokens: 1, burst: 1, intervalMs: HOUR }], 'OPEN')], 'r3');
    assert.deepEqual((await statuses(4)).map((g) => g.status), [200, 200, 200, 200]);
    // CLOSED: refused, saying why.
    await w().apply([globalPolicy('closed2', [{ name: 'main', tokens: 100, burst: 100, intervalMs: HOUR }], 'CLOSED')], 'r4');
    const refused = await statuses(3);
    assert.deepEqual(refused.map((g) => g.status), [429, 429, 429]);
    assert.match(refused[0]?.error ?? '', /^WEFT_ERR_PROXY_RATE_LIMIT_UNAVAILABLE \(RL\) .*could not reach Redis/);
    await r().restart();
    // Each replica reconnects on its own backoff and may refuse a request or two right after
    // the restart: probe with room to spare until two calls in a row (one per replica, round
    // robin) are admitted, then check that a tight limit holds again.
    await w().apply([globalPolicy('probe', [{ name: 'main', tokens: 1000, burst: 1000, intervalMs: HOUR }], 'CLOSED')], 'r5');
    let got: number[] = [];
    for (let attempt = 0; attempt < 40; attempt++) {
      got = (await statuses(2)).map((g) => g.status);
      if (got.every((s) => s === 200)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(got, [200, 200], 'Redis answers both replicas again');
    await w().apply([globalPolicy('back', [{ name: 'main', tokens: 2, burst: 2, intervalMs: HOUR }], 'CLOSED')], 'r6');
    const limited = await statuses(3);
    assert.deepEqual(limited.map((g) => g.status), [200, 200, 429]);
    assert.match(limited[2]?.error ?? '', /^WEFT_ERR_PROXY_RATE_LIMITED/);
  });
});
