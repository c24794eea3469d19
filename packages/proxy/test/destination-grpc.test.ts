/**
 * Destination policies over HTTP/2 and gRPC, end to end: a real `weft proxy` process
 * (static snapshot) in front of real gRPC servers on loopback, called with a `@grpc/grpc-js`
 * client:
 *
 * - a route rule's `retry.grpcStatuses` retries a call answered UNAVAILABLE, replaying the
 *   request message; without it the status reaches the client after one call;
 * - `connect-failure` retries a call whose endpoint refuses the connection;
 * - `connectionPool.maxRequests` refuses a call past the limit at once, as UNAVAILABLE with
 *   `WEFT_ERR_PROXY_OVERFLOW`;
 * - outlier detection ejects an endpoint answering HTTP 503, and calls then go elsewhere;
 * - streaming calls pass through a rule with a retry policy, and a client stream is retried
 *   only when its whole body fit in `maxReplayBodyBytes`.
 *
 * Every service has its own upstream listener and destination, and metrics are read as
 * their change over one test, since the tests share the proxy.
 */
import assert from 'node:assert/strict';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { createTmpDir, freePort, grpcEchoClient, startGrpcEcho, type GrpcEcho, type GrpcEchoClient } from '@weft/testing';
import { startFlakyGrpc, type FlakyGrpc } from './grpc-flaky-server.js';
import { adminGet, eventually, metric, snapshot, startProxy, suiteContext, type ProxyProcess, type TestContext, upstreamPortOf } from './http1-mesh-fixture.js';

/** Backoff short enough that retries do not slow the suite. */
const FAST_BACKOFF = { baseMs: 1, maxMs: 5 };
/** Retries on UNAVAILABLE only: `retryOn` empty, so nothing else is retried. */
const GRPC_RETRY = { attempts: 2, retryOn: [], grpcStatuses: ['UNAVAILABLE'], backoff: FAST_BACKOFF };

const GRPC_PORTS = [{ port: 50051, protocol: 'grpc' as const }];
const at = (port: number): { address: string; port: number }[] => [{ address: '127.0.0.1', port }];
const to = (service: string): { service: string }[] => [{ service: `${service}.default` }];

/** An h2c server that answers every stream HTTP 503 (no gRPC status), after reading the request. */
const startFailingH2 = async (t: TestContext): Promise<{ port: number; streams: () => number }> => {
  let streams = 0;
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream) => {
    streams++;
    stream.on('error', () => undefined);
    stream.resume();
    stream.on('end', () => {
      if (stream.closed) return;
      stream.respond({ ':status': 503, 'content-type': 'text/plain' });
      stream.end('unavailable');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(() => resolve(undefined))));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, streams: () => streams };
};

/** The `x-weft-error` trailer of a call, '' when absent. */
const weftError = (trailers: { get(key: string): unknown[] }): string => String(trailers.get('x-weft-error')[0] ?? '');

describe('destination policies over HTTP/2 and gRPC', () => {
  const ctx = suiteContext();
  let proxy: ProxyProcess;
  let flaky: FlakyGrpc;
  let pairLive: FlakyGrpc;
  let held: FlakyGrpc;
  let healthy: GrpcEcho;
  let failing: { port: number; streams: () => number };
  const clients: Record<string, GrpcEchoClient> = {};

  /** The sum of a counter's series with `labels`, 0 when there is none yet. */
  const counter = async (name: string, labels: Record<string, string>): Promise<number> => {
    const r = await adminGet(proxy, '/metrics');
    assert.equal(r.status, 200);
    return metric(r.text, name, labels) ?? 0;
  };
  const client = (service: string): GrpcEchoClient => {
    const c = clients[service];
    assert.ok(c !== undefined, `no client for ${service}`);
    return c;
  };

  before(async () => {
    [flaky, pairLive, held] = await Promise.all([startFlakyGrpc(ctx, 'flaky'), startFlakyGrpc(ctx, 'pair-live'), startFlakyGrpc(ctx, 'held')]);
    healthy = await startGrpcEcho({ name: 'healthy' });
    ctx.after(healthy.close);
    failing = await startFailingH2(ctx);
    // Nothing listens there: connecting is refused.
    const closedPort = await freePort();
    const dir = await createTmpDir({ prefix: 'destination-grpc', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const config = {
      ...snapshot({
        services: [
          {
            name: 'retry',
            ports: GRPC_PORTS,
            routes: [
              {
                name: 'small-replay',
                matches: [{ grpc: {}, headers: [{ name: 'x-replay', value: 'small' }] }],
                backendRefs: to('retry'),
                retry: { ...GRPC_RETRY, maxReplayBodyBytes: 16 },
              },
              { name: 'calls', matches: [{ grpc: {} }], backendRefs: to('retry'), retry: GRPC_RETRY },
            ],
          },
          {
            name: 'plain',
            ports: GRPC_PORTS,
            // The same policy without grpcStatuses, matched by path prefix this time.
            routes: [{ name: 'calls', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('plain'), retry: { attempts: 2, retryOn: [], backoff: FAST_BACKOFF } }],
          },
          {
            name: 'pair',
            ports: GRPC_PORTS,
            routes: [{ name: 'calls', matches: [{ grpc: {} }], backendRefs: to('pair'), retry: { attempts: 2, retryOn: ['connect-failure'], backoff: FAST_BACKOFF } }],
          },
          { name: 'cb', ports: GRPC_PORTS },
          { name: 'outlier', ports: GRPC_PORTS },
        ],
        endpoints: {
          'retry.default': at(flaky.port),
          'plain.default': at(flaky.port),
          // Round robin over a refused endpoint and a live one.
          'pair.default': [...at(closedPort), ...at(pairLive.port)],
          'cb.default': at(held.port),
          'outlier.default': [...at(healthy.port), ...at(failing.port)],
        },
      }),
      destinations: {
        'pair.default': { loadBalancer: { type: 'ROUND_ROBIN' } },
        'cb.default': { connectionPool: { maxRequests: 1, maxPendingRequests: 1024, maxConnections: 1024, maxRetries: 3 } },
        'outlier.default': {
          loadBalancer: { type: 'ROUND_ROBIN' },
          outlierDetection: { consecutive5xx: 2, intervalMs: 200, baseEjectionTimeMs: 30_000, maxEjectionPercent: 50 },
        },
      },
    };
    const services = ['retry', 'plain', 'pair', 'cb', 'outlier'];
    proxy = await startProxy(ctx, dir, config, ['--service', 'client', ...services.flatMap((s) => ['--upstream', `${s}:0`])]);
    for (const s of services) {
      const c = grpcEchoClient(`127.0.0.1:${upstreamPortOf(proxy, s)}`);
      clients[s] = c;
      ctx.after(async () => c.close());
    }
  });
  after(() => ctx.cleanup());

  test('a call answered UNAVAILABLE is retried with its request message, when the rule lists UNAVAILABLE', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `unary-${i}`);
    const start = await counter('weft_proxy_retries_total', { service: 'retry.default', reason: 'grpc-14' });
    for (const id of ids) {
      // Larger than one HTTP/2 DATA frame (16 KiB by default), so the kept body is more than one chunk.
      const message = `${id}:${'m'.repeat(20_000)}`;
      const r = await client('retry').unary({ message }, { metadata: { 'x-id': id, 'x-script': 'fail-first' } });
      assert.equal(r.code, status.OK, `${id}: ${r.details} ${weftError(r.trailers)}`);
      assert.equal(r.replies[0]?.message, message, 'the reply of the retried call echoes the message');
      assert.equal(r.replies[0]?.index, 2, 'the reply comes from the second call');
      const seen = flaky.seen(id);
      assert.equal(seen.length, 2, `${id}: one failed call, one retry`);
      assert.deepEqual(
        seen.map((s) => s.messages),
        [[message], [message]],
        'both calls carried the request message intact',
      );
    }
    const grown = (await counter('weft_proxy_retries_total', { service: 'retry.default', reason: 'grpc-14' })) - start;
    assert.ok(grown >= ids.length, `weft_proxy_retries_total{reason="grpc-14"} grew by ${grown}, expected >= ${ids.length}`);
  });

  test('without grpcStatuses, UNAVAILABLE reaches the client after one call', async () => {
    for (let i = 0; i < 3; i++) {
      const id = `plain-${i}`;
      const r = await client('plain').unary({ message: id }, { metadata: { 'x-id': id, 'x-script': 'fail-first' } });
      assert.equal(r.code, status.UNAVAILABLE, `${id}: ${r.details}`);
      assert.match(r.details, new RegExp(`${id} call #1 fails`), 'the backend\'s own status message');
      assert.equal(flaky.seen(id).length, 1, `${id}: no retry`);
    }
  });

  test('a call whose endpoint refuses the connection is retried on the other endpoint', async () => {
    const start = await counter('weft_proxy_retries_total', { service: 'pair.default', reason: 'connect-failure' });
    const n = 6;
    for (let i = 0; i < n; i++) {
      const id = `pair-${i}`;
      const r = await client('pair').unary({ message: id }, { metadata: { 'x-id': id } });
      assert.equal(r.code, status.OK, `${id}: ${r.details} ${weftError(r.trailers)}`);
      assert.equal(r.replies[0]?.servedBy, 'pair-live');
      assert.equal(pairLive.seen(id).length, 1, `${id}: answered once`);
    }
    const grown = (await counter('weft_proxy_retries_total', { service: 'pair.default', reason: 'connect-failure' })) - start;
    // Round robin sends every other first attempt to the refused endpoint.
    assert.ok(grown >= 1, `weft_proxy_retries_total{reason="connect-failure"} grew by ${grown}, expected >= 1`);
  });

  test('past connectionPool.maxRequests a call fails at once with UNAVAILABLE and WEFT_ERR_PROXY_OVERFLOW', async () => {
    const first = client('cb').unary({ message: 'held' }, { metadata: { 'x-id': 'cb-1', 'x-script': 'hold' } });
    await eventually('the first call at the backend', () => held.seen('cb-1').length === 1);
    const second = await client('cb').unary({ message: 'over' }, { metadata: { 'x-id': 'cb-2' } });
    assert.equal(second.code, status.UNAVAILABLE, second.details);
    assert.match(weftError(second.trailers), /^WEFT_ERR_PROXY_OVERFLOW \(UO\) at outbound /);
    assert.match(second.details, /WEFT_ERR_PROXY_OVERFLOW/);
    assert.equal(held.seen('cb-2').length, 0, 'the refused call never reached the backend');
    held.release();
    const r = await first;
    assert.equal(r.code, status.OK, r.details);
    const third = await client('cb').unary({ message: 'after' }, { metadata: { 'x-id': 'cb-3' } });
    assert.equal(third.code, status.OK, `the unit went back once the first call ended: ${third.details}`);
  });

  test('a call whose client gives up gives its maxRequests unit back', async () => {
    const gaveUp = await client('cb').unary({ message: 'stalled' }, { metadata: { 'x-id': 'cb-4', 'x-script': 'stall' }, deadlineMs: 300 });
    assert.equal(gaveUp.code, status.DEADLINE_EXCEEDED, gaveUp.details);
    assert.equal(held.seen('cb-4').length, 1, 'the call reached the backend and stalled there');
    // The client's cancel reaches the proxy after the client has given up: wait for the unit
    // to come back (a unit kept for good would leave the breaker open and fail this wait).
    await eventually('the maxRequests unit given back', async () => (await counter('weft_proxy_circuit_breaker_open', { service: 'cb.default', resource: 'requests' })) === 0);
    // maxRequests is 1: were the unit of the call that was given up still held, this would be UO.
    const next = await client('cb').unary({ message: 'after' }, { metadata: { 'x-id': 'cb-5' } });
    assert.equal(next.code, status.OK, next.details);
  });

  test('outlier detection ejects an endpoint answering 503, and the next calls all go to the other one', async () => {
    // Round robin: the failing endpoint gets every other call, so two failures come within four calls.
    for (let i = 0; i < 10 && failing.streams() < 2; i++) await client('outlier').unary({ message: `probe-${i}` });
    assert.equal(failing.streams(), 2, 'two calls reached the failing endpoint');
    const ejected = await counter('weft_proxy_ejected_endpoints', { service: 'outlier.default' });
    assert.equal(ejected, 1, 'one endpoint is ejected');
    const servedBefore = healthy.calls;
    for (let i = 0; i < 20; i++) {
      const r = await client('outlier').unary({ message: `after-${i}` });
      assert.equal(r.code, status.OK, `call ${i}: ${r.details} ${weftError(r.trailers)}`);
      assert.equal(r.replies[0]?.servedBy, 'healthy');
    }
    assert.equal(failing.streams(), 2, 'nothing more went to the ejected endpoint');
    assert.equal(healthy.calls - servedBefore, 20);
  });

  test('server- and client-streaming calls pass through a rule with a retry policy', async () => {
    const stream = await client('retry').serverStream({ message: 'tick', count: 5 });
    assert.equal(stream.code, status.OK, stream.details);
    assert.deepEqual(stream.replies.map((r) => r.index), [0, 1, 2, 3, 4]);
    const parts = ['alpha', 'beta', 'gamma'];
    const up = await client('retry').clientStream(parts.map((message) => ({ message })), { metadata: { 'x-id': 'cs-ok' } });
    assert.equal(up.code, status.OK, up.details);
    assert.equal(up.replies[0]?.message, 'alphabetagamma');
    assert.equal(flaky.seen('cs-ok').length, 1);
  });

  test('a client stream failed with UNAVAILABLE is retried whole when its body fit in maxReplayBodyBytes', async () => {
    const parts = Array.from({ length: 4 }, (_, i) => `part-${i}-${'p'.repeat(100)}`);
    const r = await client('retry').clientStream(parts.map((message) => ({ message })), { metadata: { 'x-id': 'cs-replay', 'x-script': 'fail-first' } });
    assert.equal(r.code, status.OK, `${r.details} ${weftError(r.trailers)}`);
    assert.equal(r.replies[0]?.message, parts.join(''));
    assert.deepEqual(
      flaky.seen('cs-replay').map((s) => s.messages),
      [parts, parts],
      'the retry carried every message again',
    );
  });

  test('a client stream larger than maxReplayBodyBytes is not retried', async () => {
    const parts = Array.from({ length: 4 }, (_, i) => `part-${i}-${'q'.repeat(20)}`);
    const r = await client('retry').clientStream(parts.map((message) => ({ message })), {
      metadata: { 'x-id': 'cs-big', 'x-script': 'fail-first', 'x-replay': 'small' },
    });
    assert.equal(r.code, status.UNAVAILABLE, r.details);
    assert.match(r.details, /cs-big call #1 fails/, 'the first call\'s status reached the client');
    assert.equal(flaky.seen('cs-big').length, 1, 'one call: the body was not kept to replay');
    assert.deepEqual(flaky.seen('cs-big')[0]?.messages, parts, 'the call itself got the whole stream');
  });
});
