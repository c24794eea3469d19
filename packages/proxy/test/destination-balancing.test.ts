/**
 * DestinationPolicy end to end, through a real `weft proxy` (static snapshot file, explicit
 * listener `web`, caller zone `a`) in front of real HTTP/1.1 backends that answer with their
 * own name: outlier detection ejects a failing endpoint and lets it back, within
 * `maxEjectionPercent`; active health checks keep traffic off an endpoint whose check fails;
 * consistent hashing (ring hash, maglev, sticky cookie) keeps a key on its endpoint and
 * moves few keys when an endpoint leaves; locality keeps traffic in the caller's zone until
 * it fails over; least request avoids an endpoint holding requests; and weights split
 * traffic without a policy. Each test installs its own endpoints and policy by a config
 * swap. Assertions are on counts and statuses only; waits are bounded polls.
 */
import assert from 'node:assert/strict';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createTmpDir, freePort } from '@weft/testing';
import { adminGet, eventually, metric, snapshot, startProxy, suiteContext, waitForVersion, type EndpointInput, type ProxyProcess, upstreamPortOf } from './http1-mesh-fixture.js';
import { hitsOf, startBackends, type Backend } from './labelled-backends.js';

interface Reply {
  readonly status: number;
  /** The backend that answered (`x-backend`), or undefined for an answer of the proxy. */
  readonly backend: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

const endpointOf = (b: Backend, labels?: Record<string, string>, weight?: number): EndpointInput => ({
  address: '127.0.0.1',
  port: b.port,
  ...(labels === undefined ? {} : { labels }),
  ...(weight === undefined ? {} : { weight }),
});

describe('destination policies through the proxy', () => {
  const ctx = suiteContext();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let proxy: ProxyProcess;
  let port = 0;
  let version = 0;

  /** Installs `endpoints` for `web.default` with `policy` (none: no destinations entry) and waits until the proxy runs it. */
  const apply = async (endpoints: EndpointInput[], policy?: object): Promise<void> => {
    const endpointsVersion = `e${++version}`;
    await proxy.writeConfig({
      ...snapshot({ endpointsVersion, services: [{ name: 'web', ports: [{ port: 8080, protocol: 'http' }] }], endpoints: { 'web.default': endpoints } }),
      destinations: policy === undefined ? {} : { 'web.default': policy },
    });
    await waitForVersion(proxy, `r1/${endpointsVersion}`);
  };

  const get = (headers: Record<string, string> = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { host: 'web:8080', ...headers } }, (res) => {
        res.resume();
        res.on('end', () => {
          const b = res.headers['x-backend'];
          resolve({ status: res.statusCode ?? 0, backend: typeof b === 'string' ? b : undefined, headers: res.headers });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      req.end();
    });

  /** `n` requests one after another. */
  const sequence = async (n: number, headers: Record<string, string> = {}): Promise<Reply[]> => {
    const out: Reply[] = [];
    for (let i = 0; i < n; i++) out.push(await get(headers));
    return out;
  };

  const countBy = (replies: readonly Reply[]): Record<string, number> => {
    const c: Record<string, number> = {};
    for (const r of replies) {
      const k = r.backend ?? `proxy-${r.status}`;
      c[k] = (c[k] ?? 0) + 1;
    }
    return c;
  };

  before(async () => {
    const dir = await createTmpDir({ prefix: 'destination-balancing', t: ctx as { after: (fn: () => Promise<void>) => void } });
    proxy = await startProxy(ctx, dir, snapshot({ services: [{ name: 'web', ports: [{ port: 8080, protocol: 'http' }] }] }), [
      '--service',
      'client',
      '--upstream',
      'web:0',
      '--label',
      'zone=a',
    ]);
    port = upstreamPortOf(proxy, 'web');
    ctx.after(async () => {
      agent.destroy();
    });
  });
  after(() => ctx.cleanup());

  describe('outlier detection', () => {
    // 3 s out: long enough that the 30 requests checked while it is out surely finish within
    // it on a loaded machine, short enough to wait for its return.
    const outliers = { consecutive5xx: 3, intervalMs: 200, baseEjectionTimeMs: 3000, maxEjectionPercent: 50 };
    let metricsWhileEjected = '';
    let metricsAfterReturn = '';

    test('an endpoint with 3 server errors in a row is ejected, and gets traffic again once healthy', async () => {
      const backends = await startBackends(ctx, ['od-1', 'od-2', 'od-bad']);
      const bad = backends[2] as Backend;
      bad.status = 500;
      await apply(backends.map((b) => endpointOf(b)), { outlierDetection: outliers });
      await eventually('the failing endpoint took 3 requests', async () => {
        await get();
        return bad.hits >= 3;
      });
      metricsWhileEjected = (await adminGet(proxy, '/metrics')).text;
      const replies = await sequence(30);
      assert.equal(bad.hits, 3, `no request reached the ejected endpoint: ${JSON.stringify(countBy(replies))}`);
      assert.ok(
        replies.every((r) => r.status === 200),
        JSON.stringify(countBy(replies)),
      );
      bad.status = 200;
      await eventually(
        'the endpoint gets traffic again after its ejection time',
        async () => {
          await get();
          return bad.hits > 3;
        },
        15_000,
      );
      const returned = await sequence(30);
      assert.ok(
        returned.every((r) => r.status === 200),
        JSON.stringify(countBy(returned)),
      );
      assert.ok((countBy(returned)['od-bad'] ?? 0) > 0, `the returned endpoint shares traffic: ${JSON.stringify(countBy(returned))}`);
      metricsAfterReturn = (await adminGet(proxy, '/metrics')).text;
    });

    test('metrics: the ejection is counted, and the gauge shows the ejected endpoint while it is out', () => {
      assert.ok(
        (metric(metricsWhileEjected, 'weft_proxy_outlier_ejections_total', { service: 'web.default', reason: 'consecutive-5xx' }) ?? 0) >= 1,
        'weft_proxy_outlier_ejections_total{service="web.default",reason="consecutive-5xx"}',
      );
      assert.equal(metric(metricsWhileEjected, 'weft_proxy_ejected_endpoints', { service: 'web.default' }), 1, 'weft_proxy_ejected_endpoints{service="web.default"}');
      assert.equal(metric(metricsAfterReturn, 'weft_proxy_ejected_endpoints', { service: 'web.default' }), 0, 'none ejected after the return');
    });

    test('maxEjectionPercent: with 2 of 3 endpoints failing and 50 % at most, only one is out', async () => {
      const backends = await startBackends(ctx, ['max-ok', 'max-bad-1', 'max-bad-2']);
      const [ok, bad1, bad2] = backends as [Backend, Backend, Backend];
      bad1.status = 500;
      bad2.status = 500;
      // A long ejection, so that the one ejected stays out while the test counts.
      await apply(backends.map((b) => endpointOf(b)), { outlierDetection: { ...outliers, baseEjectionTimeMs: 30_000 } });
      await eventually('both failing endpoints took 3 requests', async () => {
        await get();
        return bad1.hits >= 3 && bad2.hits >= 3;
      });
      const earlier = hitsOf(backends);
      const replies = await sequence(30);
      const delta = (b: Backend): number => b.hits - (earlier[b.name] ?? 0);
      const counts = `${JSON.stringify(countBy(replies))} after ${JSON.stringify(earlier)}`;
      assert.equal([bad1, bad2].filter((b) => delta(b) === 0).length, 1, `exactly one failing endpoint is ejected: ${counts}`);
      assert.ok(delta(ok) > 0, counts);
    });
  });

  describe('active health checks', () => {
    const httpCheck = { type: 'HTTP', path: '/healthz', intervalMs: 200, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 1 };

    /** Waits until `b` got two more checks: the first of them then has been judged (the next starts only after it ended). */
    const checkedTwice = async (bs: readonly Backend[]): Promise<void> => {
      const from = bs.map((b) => b.healthChecks);
      await eventually('two more health checks', () => bs.every((b, i) => b.healthChecks >= (from[i] ?? 0) + 2), 5000);
    };

    test('HTTP: an endpoint whose /healthz fails gets no traffic, and gets it again when it passes', async () => {
      const backends = await startBackends(ctx, ['hc-1', 'hc-2', 'hc-sick']);
      const sick = backends[2] as Backend;
      sick.healthStatus = 503;
      await apply(backends.map((b) => endpointOf(b)), { healthCheck: httpCheck });
      await checkedTwice([sick]);
      assert.equal(sick.lastHealthHost, 'web.default', 'the probe names the Service as host');
      const healthy = metric((await adminGet(proxy, '/metrics')).text, 'weft_proxy_endpoint_healthy', { service: 'web.default', endpoint: `127.0.0.1:${sick.port}` });
      assert.equal(healthy, 0, 'weft_proxy_endpoint_healthy of the failing endpoint');
      const sickHits = sick.hits;
      const replies = await sequence(20);
      assert.equal(sick.hits, sickHits, `no request reached the unhealthy endpoint: ${JSON.stringify(countBy(replies))}`);
      assert.ok(replies.every((r) => r.status === 200));
      sick.healthStatus = 200;
      await checkedTwice([sick]);
      const back = await sequence(30);
      assert.ok((countBy(back)['hc-sick'] ?? 0) > 0, `the healthy again endpoint gets traffic: ${JSON.stringify(countBy(back))}`);
    });

    test('TCP: an endpoint whose port is closed is not picked once checked', async () => {
      const backends = await startBackends(ctx, ['tcp-1', 'tcp-2']);
      const closed = await freePort();
      await apply([...backends.map((b) => endpointOf(b)), { address: '127.0.0.1', port: closed }], {
        healthCheck: { type: 'TCP', intervalMs: 200, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 1 },
      });
      // The closed endpoint's first check comes within one interval; until then a third of the
      // requests go to it and fail. 30 successes in a row by chance would be (2/3)^30, about 5e-6.
      await eventually('the closed endpoint is no longer picked', async () => (await sequence(30)).every((r) => r.status === 200), 5000);
      const replies = await sequence(30);
      assert.ok(
        replies.every((r) => r.status === 200),
        JSON.stringify(countBy(replies)),
      );
      assert.deepEqual(Object.keys(countBy(replies)).sort(), ['tcp-1', 'tcp-2']);
    });
  });

  describe('consistent hashing', () => {
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);

    /** The backend each user reaches, asserting it is the same over `repeat` requests. */
    const placement = async (repeat: number): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      for (const u of users) {
        const seen = new Set((await sequence(repeat, { 'x-user': u })).map((r) => r.backend ?? 'none'));
        assert.equal(seen.size, 1, `${u} reached ${[...seen].join(', ')}`);
        out.set(u, [...seen][0] ?? 'none');
      }
      return out;
    };

    /** Places users over `names`, removes the last backend, and places them again. */
    const removeOne = async (
      names: readonly string[],
      loadBalancer: object,
    ): Promise<{ before: Map<string, string>; after: Map<string, string>; removed: string }> => {
      const backends = await startBackends(ctx, names);
      const policy = { loadBalancer };
      await apply(backends.map((b) => endpointOf(b)), policy);
      const placed = await placement(3);
      assert.ok(new Set(placed.values()).size >= names.length - 1, `users spread: ${JSON.stringify([...placed])}`);
      const removed = backends[backends.length - 1] as Backend;
      await apply(backends.slice(0, -1).map((b) => endpointOf(b)), policy);
      const replaced = await placement(2);
      return { before: placed, after: replaced, removed: removed.name };
    };

    const moves = (r: { before: Map<string, string>; after: Map<string, string>; removed: string }): { kept: number; others: number; removedUsers: number; movedOff: number } => {
      let kept = 0;
      let others = 0;
      let removedUsers = 0;
      let movedOff = 0;
      for (const [u, b] of r.before) {
        const now = r.after.get(u);
        if (b === r.removed) {
          removedUsers++;
          if (now !== r.removed) movedOff++;
        } else {
          others++;
          if (now === b) kept++;
        }
      }
      return { kept, others, removedUsers, movedOff };
    };

    const ringHash = { type: 'RING_HASH', hashKey: { type: 'HEADER', name: 'x-user' } };

    test('RING_HASH on a header: each user sticks to a backend; removing one (of 5, of 4) moves only its users', async () => {
      // Each endpoint's ring entries depend on nothing but its own key and weight, so the
      // remaining endpoints' entries do not change when one leaves.
      for (const names of [
        ['rh-1', 'rh-2', 'rh-3', 'rh-4', 'rh-5'],
        ['rh4-1', 'rh4-2', 'rh4-3', 'rh4-4'],
      ]) {
        const m = moves(await removeOne(names, ringHash));
        assert.equal(m.movedOff, m.removedUsers, 'users of the removed backend moved');
        assert.equal(m.kept, m.others, `users of the other backends keep theirs: ${JSON.stringify(m)}`);
      }
    });

    test('MAGLEV on a header: each user sticks to a backend; removing one moves few others', async () => {
      const r = await removeOne(['mg-1', 'mg-2', 'mg-3', 'mg-4'], { type: 'MAGLEV', hashKey: { type: 'HEADER', name: 'x-user' } });
      const m = moves(r);
      assert.equal(m.movedOff, m.removedUsers, 'users of the removed backend moved');
      assert.ok(m.kept >= 0.8 * m.others, `at least 80 % of the other users keep their backend: ${JSON.stringify(m)}`);
    });

    test('COOKIE with a ttl: a request without the cookie gets one, and the cookie keeps the backend', async () => {
      const backends = await startBackends(ctx, ['ck-1', 'ck-2', 'ck-3', 'ck-4']);
      await apply(backends.map((b) => endpointOf(b)), {
        loadBalancer: { type: 'RING_HASH', hashKey: { type: 'COOKIE', name: 'weft-sticky', ttlMs: 60_000 } },
      });
      for (let client = 0; client < 6; client++) {
        const first = await get();
        assert.equal(first.status, 200);
        const setCookie = first.headers['set-cookie'] ?? [];
        const sticky = setCookie.find((c) => c.startsWith('weft-sticky='));
        assert.ok(sticky !== undefined, `set-cookie: ${JSON.stringify(setCookie)}`);
        assert.match(sticky, /; Max-Age=60\b/);
        const cookie = sticky.split(';')[0] ?? '';
        const again = await sequence(8, { cookie });
        assert.deepEqual(
          again.map((r) => r.backend),
          again.map(() => first.backend),
          `client ${client} with ${cookie} stays on ${String(first.backend)}`,
        );
        assert.ok(
          again.every((r) => r.headers['set-cookie'] === undefined),
          'a request with the cookie gets no new one',
        );
      }
    });
  });

  test('locality: traffic stays in the caller zone, spills when it falls under the threshold, and fails over', async () => {
    const backends = await startBackends(ctx, ['a-1', 'a-2', 'b-1', 'b-2']);
    const [a1, a2] = backends as [Backend, Backend, Backend, Backend];
    await apply(
      backends.map((b) => endpointOf(b, { zone: b.name.slice(0, 1) })),
      {
        locality: { enabled: true, minHealthyPercentage: 70 },
        healthCheck: { type: 'HTTP', path: '/healthz', intervalMs: 200, timeoutMs: 100, healthyThreshold: 1, unhealthyThreshold: 1 },
      },
    );
    const local = await sequence(40);
    assert.deepEqual(Object.keys(countBy(local)).sort(), ['a-1', 'a-2'], JSON.stringify(countBy(local)));
    const checkedTwice = async (bs: readonly Backend[]): Promise<void> => {
      const from = bs.map((b) => b.healthChecks);
      await eventually('two more health checks', () => bs.every((b, i) => b.healthChecks >= (from[i] ?? 0) + 2), 5000);
    };
    // One of two zone-a endpoints failing leaves 50 % healthy, under 70 %: part of the traffic spills to zone b.
    a1.healthStatus = 503;
    await checkedTwice([a1]);
    const spilled = countBy(await sequence(100));
    assert.equal(spilled['a-1'], undefined, JSON.stringify(spilled));
    assert.ok((spilled['a-2'] ?? 0) > 0 && (spilled['b-1'] ?? 0) + (spilled['b-2'] ?? 0) > 0, JSON.stringify(spilled));
    a2.healthStatus = 503;
    await checkedTwice([a2]);
    const failedOver = await sequence(40);
    assert.ok(failedOver.every((r) => r.status === 200));
    assert.deepEqual(Object.keys(countBy(failedOver)).sort(), ['b-1', 'b-2'], JSON.stringify(countBy(failedOver)));
  });

  test('LEAST_REQUEST: new requests avoid the endpoint holding requests', async () => {
    const backends = await startBackends(ctx, ['lr-fast', 'lr-slow']);
    const [fast, slow] = backends as [Backend, Backend];
    await apply(backends.map((b) => endpointOf(b)), { loadBalancer: { type: 'LEAST_REQUEST' } });
    // Both hold at first, so that least request spreads the first requests over both.
    fast.stall = true;
    slow.stall = true;
    let answered = 0;
    const first = Array.from({ length: 16 }, () =>
      get().then((r) => {
        answered++;
        return r;
      }),
    );
    await eventually('the first requests arrived', () => fast.held.length + slow.held.length === 16);
    const holding = slow.held.length;
    assert.ok(holding >= 5, `the slow endpoint holds ${holding} of 16`);
    fast.stall = false;
    fast.release();
    // Once the client has their answers, the proxy no longer counts them in flight.
    await eventually('the fast endpoint answered what it held', () => answered === 16 - holding);
    const slowBefore = slow.hits;
    // Waves of 4 at once: the fast endpoint never has as many in flight as the slow one holds.
    const waves: Reply[] = [];
    for (let w = 0; w < 5; w++) waves.push(...(await Promise.all(Array.from({ length: 4 }, () => get()))));
    assert.equal(slow.hits, slowBefore, `no new request went to the endpoint holding ${holding}: ${JSON.stringify(countBy(waves))}`);
    assert.ok(waves.every((r) => r.status === 200 && r.backend === 'lr-fast'));
    slow.stall = false;
    slow.release();
    assert.ok((await Promise.all(first)).every((r) => r.status === 200));
  });

  test('without a destination policy, endpoint weights 3 and 1 split traffic about 3:1', async () => {
    const backends = await startBackends(ctx, ['w-3', 'w-1']);
    await apply([endpointOf(backends[0] as Backend, undefined, 3), endpointOf(backends[1] as Backend, undefined, 1)]);
    const counts = countBy(await sequence(400));
    assert.equal((counts['w-3'] ?? 0) + (counts['w-1'] ?? 0), 400, JSON.stringify(counts));
    assert.ok((counts['w-3'] ?? 0) >= 270 && (counts['w-3'] ?? 0) <= 330, `about 300 of 400 to weight 3: ${JSON.stringify(counts)}`);
  });
});
