/**
 * Retries and destination policies end to end over HTTP/1.1, through a real `weft proxy`
 * process (static snapshot) in front of scripted backends on loopback:
 *
 * - a route rule's `retry` recovers a flaky backend (5xx, listed status codes, connect
 *   failures on another endpoint), replays the request body, and does not retry a body
 *   larger than `maxReplayBodyBytes`;
 * - a destination's `retryBudget` keeps retries against a dead backend to a share of the
 *   requests, where unbounded retries would multiply the load;
 * - `connectionPool` limits answer 503 `UO` at once past `maxRequests` and
 *   `maxPendingRequests`, and `maxRetries: 0` passes a retriable failure through;
 * - retries under `timeouts`: a stalled attempt ends at `backendRequest` and is retried,
 *   and the attempts stay within the `request` deadline.
 *
 * Every service of the proxy has its own backend (pools are per endpoint), and metrics are
 * read as the change over one test, since the tests share the proxy.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { createTmpDir, freePort } from '@weft/testing';
import { startFlakyBackend, type FlakyBackend, type SeenRequest } from './flaky-backend.js';
import { adminGet, eventually, metric, snapshot, startProxy, suiteContext, type ProxyProcess, type ServiceInput, upstreamPortOf } from './http1-mesh-fixture.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface CallOptions {
  readonly id: string;
  readonly method?: string;
  readonly body?: Buffer;
  /** Send the body chunked (no content-length). */
  readonly chunked?: boolean;
  readonly headers?: Record<string, string>;
  /** Keep-alive agent for sequential calls; absent: a connection of its own. */
  readonly agent?: Agent;
}

const call = (port: number, service: string, path: string, o: CallOptions): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `${service}:8080`, 'x-id': o.id, ...o.headers };
    if (o.body !== undefined && o.chunked !== true) headers['content-length'] = String(o.body.length);
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: o.agent ?? false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // A proxy that never answers fails the test instead of hanging it.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${o.id} within 10 s`)));
    if (o.body !== undefined) {
      if (o.chunked === true) {
        // Two writes, so that the body really goes out as more than one chunk.
        const half = Math.floor(o.body.length / 2);
        req.write(o.body.subarray(0, half));
        req.end(o.body.subarray(half));
      } else req.end(o.body);
    } else req.end();
  });

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The error header of a proxy answer, for assertions and their messages. */
const weftError = (r: Reply): string => String(r.headers['x-weft-error']);

/** Backoff short enough that retries do not slow the suite. */
const FAST_BACKOFF = { baseMs: 1, maxMs: 5 };

const prefix = (value: string): object => ({ path: { type: 'PathPrefix', value } });
const rule = (name: string, path: string, service: string, extra: object = {}): object => ({
  name,
  matches: [prefix(path)],
  backendRefs: [{ service: `${service}.default` }],
  ...extra,
});
const http = (name: string, routes?: object[]): ServiceInput => ({ name, ports: [{ port: 8080, protocol: 'http' }], ...(routes === undefined ? {} : { routes }) });
const at = (port: number): { address: string; port: number }[] => [{ address: '127.0.0.1', port }];

/** The first request of an id fails with `x-fail-status` (default 503); later ones get 200. */
const failFirst = (r: SeenRequest): { status: number } => ({ status: r.nth === 1 ? Number(r.headers['x-fail-status'] ?? 503) : 200 });

const POOL_DEFAULTS = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

describe('destination retries and connection pools (HTTP/1.1)', () => {
  const ctx = suiteContext();
  let proxy: ProxyProcess;
  const ports: Record<string, number> = {};
  let web: FlakyBackend;
  let pair: FlakyBackend;
  let dead: FlakyBackend;
  let cb: FlakyBackend;
  let cbconn: FlakyBackend;
  let noretry: FlakyBackend;
  let slow: FlakyBackend;
  let leak: FlakyBackend;
  let queue: FlakyBackend;
  const agent = new Agent({ keepAlive: true });

  /** The sum of a counter's series with `labels`, 0 when there is none yet. */
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const r = await adminGet(proxy, '/metrics');
    assert.equal(r.status, 200);
    return metric(r.text, name, labels) ?? 0;
  };
  /** How much a counter grows while `fn` runs. */
  const growth = async (name: string, labels: Record<string, string>, fn: () => Promise<void>): Promise<number> => {
    const start = await counter(name, labels);
    await fn();
    return (await counter(name, labels)) - start;
  };

  before(async () => {
    [web, pair, dead, cb, cbconn, noretry, slow, leak, queue] = await Promise.all([
      startFlakyBackend(ctx, failFirst),
      startFlakyBackend(ctx, () => ({ status: 200 })),
      startFlakyBackend(ctx, () => ({ status: 503 })),
      startFlakyBackend(ctx, () => 'hold'),
      startFlakyBackend(ctx, () => 'hold'),
      startFlakyBackend(ctx, () => ({ status: 503 })),
      startFlakyBackend(ctx, (r) => (r.path === '/once' && r.nth > 1 ? { status: 200 } : 'stall')),
      startFlakyBackend(ctx, () => 'hold'),
      startFlakyBackend(ctx, () => 'hold'),
    ]);
    // Nothing listens there: connecting is refused.
    const closedPort = await freePort();
    const dir = await createTmpDir({ prefix: 'destination-retries', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const retry5xx = (attempts: number, more: object = {}): object => ({ retry: { attempts, retryOn: ['5xx'], backoff: FAST_BACKOFF, ...more } });
    const config = {
      ...snapshot({
        services: [
          http('web', [
            rule('flaky', '/flaky', 'web', retry5xx(2, { maxReplayBodyBytes: 16 * 1024 })),
            rule('conflict', '/conflict', 'web', { retry: { attempts: 2, statusCodes: [409], backoff: FAST_BACKOFF } }),
          ]),
          http('pair', [rule('all', '/', 'pair', { retry: { attempts: 2, retryOn: ['connect-failure'], backoff: FAST_BACKOFF } })]),
          http('dead', [rule('all', '/', 'dead', retry5xx(3))]),
          http('cb'),
          http('cbconn'),
          http('noretry', [rule('all', '/', 'noretry', retry5xx(2))]),
          http('slow', [rule('all', '/', 'slow', { ...retry5xx(20), timeouts: { requestMs: 1500, backendRequestMs: 200 } })]),
          http('leak'),
          // One connection: /fast waits behind /slow, and its deadline counts the wait.
          http('queue', [rule('fast', '/fast', 'queue', { timeouts: { requestMs: 300 } }), rule('slow', '/', 'queue')]),
        ],
        endpoints: {
          'web.default': at(web.port),
          // Round robin over a dead endpoint and a live one.
          'pair.default': [...at(closedPort), ...at(pair.port)],
          'dead.default': at(dead.port),
          'cb.default': at(cb.port),
          'cbconn.default': at(cbconn.port),
          'noretry.default': at(noretry.port),
          'slow.default': at(slow.port),
          'leak.default': at(leak.port),
          'queue.default': at(queue.port),
        },
      }),
      destinations: {
        'dead.default': { retryBudget: { ratio: 0.2, minRetriesPerSecond: 1, ttlMs: 10_000 } },
        'cb.default': { connectionPool: { maxRequests: 2, maxPendingRequests: 0, maxConnections: 1024, maxRetries: 3 } },
        'cbconn.default': { connectionPool: { ...POOL_DEFAULTS, maxConnections: 1, maxPendingRequests: 1 } },
        'noretry.default': { connectionPool: { ...POOL_DEFAULTS, maxRetries: 0 } },
        'leak.default': { connectionPool: { ...POOL_DEFAULTS, maxConnections: 1, maxPendingRequests: 4, maxRequests: 2 } },
        'queue.default': { connectionPool: { ...POOL_DEFAULTS, maxConnections: 1 } },
      },
    };
    const services = ['web', 'pair', 'dead', 'cb', 'cbconn', 'noretry', 'slow', 'leak', 'queue'];
    proxy = await startProxy(ctx, dir, config, ['--service', 'client', ...services.flatMap((s) => ['--upstream', `${s}:0`])]);
    for (const s of services) {
      ports[s] = upstreamPortOf(proxy, s);
    }
    ctx.after(async () => {
      agent.destroy();
    });
  });
  after(() => ctx.cleanup());

  const port = (s: string): number => ports[s] ?? 0;

  describe('retries', () => {
    test('a backend that fails the first attempt with 503 answers every request through retries, and retries are counted', async () => {
      const ids = Array.from({ length: 5 }, (_, i) => `get-${i}`);
      const retried = await growth('weft_proxy_retries_total', { reason: '503' }, async () => {
        for (const id of ids) {
          const r = await call(port('web'), 'web', '/flaky', { id, agent });
          assert.equal(r.status, 200, `${id}: ${r.body} ${weftError(r)}`);
          assert.equal(r.headers['x-attempt'], '2', 'the answer of the second attempt');
        }
      });
      for (const id of ids) assert.equal(web.seen(id).length, 2, `${id}: one failed attempt, one retry`);
      assert.ok(retried >= ids.length, `weft_proxy_retries_total{reason="503"} grew by ${retried}, expected >= ${ids.length}`);
    });

    test('a retried POST carries the same body, with content-length and chunked', async () => {
      for (const chunked of [false, true]) {
        const id = `post-${chunked ? 'chunked' : 'length'}`;
        const body = randomBytes(8 * 1024);
        const r = await call(port('web'), 'web', '/flaky', { id, method: 'POST', body, chunked });
        assert.equal(r.status, 200, `${id}: ${r.body} ${weftError(r)}`);
        const seen = web.seen(id);
        assert.equal(seen.length, 2, id);
        assert.deepEqual(
          seen.map((s) => [s.method, s.bodyBytes, s.bodyHash]),
          [
            ['POST', body.length, sha256(body)],
            ['POST', body.length, sha256(body)],
          ],
          `${id}: both attempts got the whole body`,
        );
        assert.equal(r.headers['x-body-sha256'], sha256(body));
      }
    });

    test('a body larger than maxReplayBodyBytes is not retried', async () => {
      const id = 'post-large';
      const body = randomBytes(32 * 1024);
      const refused = await growth('weft_proxy_retries_refused_total', { reason: 'body-not-replayable' }, async () => {
        const r = await call(port('web'), 'web', '/flaky', { id, method: 'POST', body });
        assert.equal(r.status, 503, `the backend's own 503 passes through: ${r.body}`);
        assert.equal(r.headers['x-attempt'], '1');
      });
      assert.equal(web.seen(id).length, 1, 'no retry');
      assert.equal(web.seen(id)[0]?.bodyBytes, body.length, 'the one attempt got the whole body');
      assert.ok(refused >= 1, `weft_proxy_retries_refused_total{reason="body-not-replayable"} grew by ${refused}`);
    });

    test('statusCodes: a listed 409 is retried; under retryOn 5xx alone a 409 is not', async () => {
      const retried = await growth('weft_proxy_retries_total', { reason: '409' }, async () => {
        const r = await call(port('web'), 'web', '/conflict', { id: 'conflict', headers: { 'x-fail-status': '409' }, agent });
        assert.equal(r.status, 200, r.body);
      });
      assert.equal(web.seen('conflict').length, 2);
      assert.ok(retried >= 1, `weft_proxy_retries_total{reason="409"} grew by ${retried}`);
      const r = await call(port('web'), 'web', '/flaky', { id: 'conflict-5xx-only', headers: { 'x-fail-status': '409' }, agent });
      assert.equal(r.status, 409, r.body);
      assert.equal(web.seen('conflict-5xx-only').length, 1);
    });

    test('a connect failure is retried on the other endpoint: every request succeeds', async () => {
      const n = 6;
      const retried = await growth('weft_proxy_retries_total', { reason: 'connect-failure' }, async () => {
        for (let i = 0; i < n; i++) {
          const r = await call(port('pair'), 'pair', '/', { id: `pair-${i}`, agent });
          assert.equal(r.status, 200, `request ${i}: ${r.body} ${weftError(r)}`);
        }
      });
      assert.equal(pair.total(), n, 'the live endpoint answered each request once');
      assert.ok(retried >= 1, `weft_proxy_retries_total{reason="connect-failure"} grew by ${retried}`);
    });
  });

  test('the retry budget keeps retries against a dead backend to a share of the requests', async () => {
    const n = 100;
    const flaggedBefore = await counter('istio_requests_total', { reporter: 'source', response_flags: 'URX' });
    const refused = await growth('weft_proxy_retries_refused_total', { reason: 'budget-exhausted' }, async () => {
      for (let i = 0; i < n; i++) {
        const r = await call(port('dead'), 'dead', '/', { id: `dead-${i}`, agent });
        assert.equal(r.status, 503, `request ${i}: ${r.body}`);
      }
    });
    const flagged = (await counter('istio_requests_total', { reporter: 'source', response_flags: 'URX' })) - flaggedBefore;
    assert.ok(flagged >= refused, `responses passed through when retries ran out are flagged URX (${flagged} flagged, ${refused} refused retries)`);
    // ratio 0.2 of the requests, plus the floor of minRetriesPerSecond × ttl (1/s × 10 s):
    // unbounded, 3 retries each would have sent 4n.
    const bound = n + 0.2 * n + 10;
    const seen = dead.total();
    assert.ok(seen > n, `some requests were retried (backend saw ${seen})`);
    assert.ok(seen <= bound, `backend saw ${seen} requests, expected at most ${bound} (unbounded: ${4 * n})`);
    assert.ok(refused > 0, `weft_proxy_retries_refused_total{reason="budget-exhausted"} grew by ${refused}`);
  });

  describe('connection pool limits', () => {
    test('maxRequests: past 2 in flight a request is 503 UO at once; after they end, requests pass again', async () => {
      const overflowsBefore = await counter('weft_proxy_circuit_breaker_overflows_total', { limit: 'maxRequests' });
      const calls = ['cb-1', 'cb-2', 'cb-3'].map((id) => call(port('cb'), 'cb', '/', { id }));
      // Two requests are held by the backend, so the first answer is the refused one.
      const first = await Promise.race(calls);
      assert.equal(first.status, 503, `first answer: ${first.status} ${first.body}`);
      await eventually('two requests held by the backend', () => cb.total() === 2);
      const overflows = (await counter('weft_proxy_circuit_breaker_overflows_total', { limit: 'maxRequests' })) - overflowsBefore;
      cb.release();
      const replies = await Promise.all(calls);
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 503]);
      const refused = replies.find((r) => r.status === 503);
      assert.ok(refused !== undefined);
      assert.match(weftError(refused), /^WEFT_ERR_PROXY_OVERFLOW \(UO\) .*maxRequests/);
      assert.equal(cb.total(), 2, 'the refused request never reached the backend');
      assert.ok(overflows >= 1, `weft_proxy_circuit_breaker_overflows_total{limit="maxRequests"} grew by ${overflows}`);
      const again = await call(port('cb'), 'cb', '/', { id: 'cb-after' });
      assert.equal(again.status, 200, `${again.body} ${weftError(again)}`);
    });

    test('a waiting request whose client leaves gives its maxRequests unit back', async () => {
      const first = call(port('leak'), 'leak', '/', { id: 'leak-1' });
      await eventually('the first request held by the backend', () => leak.total() === 1);
      // The second waits for the one connection; its client gives up while it waits.
      const waiting = request({ host: '127.0.0.1', port: port('leak'), path: '/', agent: false, headers: { host: 'leak:8080', 'x-id': 'leak-2' } });
      const gone = new Promise<void>((resolve) => waiting.on('error', () => resolve()));
      waiting.end();
      await new Promise((resolve) => setTimeout(resolve, 100));
      waiting.destroy();
      await gone;
      leak.release();
      assert.equal((await first).status, 200);
      // maxRequests is 2: were the unit of the request that left still held, one of these
      // two would be refused with 503 UO.
      const again = await Promise.all(['leak-3', 'leak-4'].map((id) => call(port('leak'), 'leak', '/', { id })));
      assert.deepEqual(
        again.map((r) => r.status),
        [200, 200],
        again.map((r) => weftError(r)).join(' | '),
      );
    });

    test("a request waiting for a connection is held to its route's timeout: 504 UT once it runs out", async () => {
      const held = call(port('queue'), 'queue', '/slow', { id: 'queue-1' });
      await eventually('the first request held by the backend', () => queue.total() === 1);
      // The one connection is busy: /fast (timeouts.request 300 ms) waits for it.
      const waited = await call(port('queue'), 'queue', '/fast', { id: 'queue-2' });
      assert.equal(waited.status, 504, waited.body);
      assert.match(weftError(waited), /^WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\) .*waited all that time for a connection/);
      assert.equal(queue.total(), 1, 'the request that ran out was never sent');
      queue.release();
      assert.equal((await held).status, 200);
    });

    test('maxConnections 1, maxPendingRequests 1: one in flight, one waiting, the next 503 UO', async () => {
      const calls = ['conn-1', 'conn-2', 'conn-3'].map((id) => call(port('cbconn'), 'cbconn', '/', { id }));
      const first = await Promise.race(calls);
      assert.equal(first.status, 503, `first answer: ${first.status} ${first.body}`);
      assert.match(weftError(first), /^WEFT_ERR_PROXY_OVERFLOW \(UO\) .*maxPendingRequests/);
      await eventually('one request held by the backend', () => cbconn.total() === 1);
      cbconn.release();
      const replies = await Promise.all(calls);
      assert.deepEqual(replies.map((r) => r.status).sort(), [200, 200, 503]);
      assert.equal(cbconn.total(), 2, 'the waiting request went out once the connection was free');
      assert.ok((await counter('weft_proxy_circuit_breaker_overflows_total', { limit: 'maxPendingRequests' })) >= 1, 'the overflow is counted by the limit that refused');
    });

    test('maxRetries 0: a retriable 503 passes through without a retry', async () => {
      const refused = await growth('weft_proxy_retries_refused_total', { reason: 'retry-overflow' }, async () => {
        const r = await call(port('noretry'), 'noretry', '/', { id: 'noretry', agent });
        assert.equal(r.status, 503, r.body);
        assert.equal(r.headers['x-attempt'], '1', "the backend's own answer");
      });
      assert.equal(noretry.seen('noretry').length, 1);
      assert.ok(refused >= 1, `weft_proxy_retries_refused_total{reason="retry-overflow"} grew by ${refused}`);
    });
  });

  describe('retries under timeouts', () => {
    test('an attempt stalled past backendRequest is retried, and the retry answers', async () => {
      const retried = await growth('weft_proxy_retries_total', { reason: 'timeout' }, async () => {
        const r = await call(port('slow'), 'slow', '/once', { id: 'once', agent });
        assert.equal(r.status, 200, `${r.body} ${weftError(r)}`);
      });
      assert.equal(slow.seen('once').length, 2);
      assert.ok(retried >= 1, `weft_proxy_retries_total{reason="timeout"} grew by ${retried}`);
    });

    test('a backend that always stalls: 504 UT, with no more attempts than fit in the request deadline', async () => {
      const r = await call(port('slow'), 'slow', '/always', { id: 'always' });
      assert.equal(r.status, 504, r.body);
      assert.match(weftError(r), /^WEFT_ERR_PROXY_UPSTREAM_TIMEOUT \(UT\)/);
      const attempts = slow.seen('always').length;
      // requestMs / backendRequestMs = 7.5: at most 8 attempts start before the deadline.
      assert.ok(attempts >= 2, `retried at least once (${attempts} attempts)`);
      assert.ok(attempts <= Math.ceil(1500 / 200), `${attempts} attempts, expected at most ${Math.ceil(1500 / 200)}`);
    });
  });
});
