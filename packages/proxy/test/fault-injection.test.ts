/**
 * Fault injection end to end: a real caller `weft proxy` whose snapshot puts FaultPolicy
 * faults on route rules of `svc` (HTTP/1.1 echo app) and `grpcsvc` (gRPC echo app); the
 * faults are applied by the caller, before anything is forwarded.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ECHO_METHODS, createTmpDir, grpcEchoClient, startGrpcEcho, startHttp1Echo, type GrpcEcho, type Http1Echo } from '@weft/testing';
import { adminGet, eventually, metric, type ProxyProcess, snapshot, startProxy, type TestContext, upstreamPortOf } from './http1-mesh-fixture.js';

interface World {
  readonly app: Http1Echo;
  readonly grpcApp: GrpcEcho;
  readonly caller: ProxyProcess;
  readonly svc: number;
  readonly grpcsvc: number;
}

let world: World | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
const ctx: TestContext = { after: (fn) => cleanups.push(fn) };

const DELAY_MS = 300;

before(async () => {
  const dir = await createTmpDir({ prefix: 'faults' });
  cleanups.push(() => dir.remove());
  const app = await startHttp1Echo({ name: 'svc-app' });
  cleanups.push(app.close);
  const grpcApp = await startGrpcEcho({ name: 'grpc-app' });
  cleanups.push(grpcApp.close);
  const backend = [{ service: 'svc.default' }];
  const caller = await startProxy(
    ctx,
    dir,
    snapshot({
      services: [
        {
          name: 'svc',
          ports: [{ port: 9080, protocol: 'http' }],
          routes: [
            { name: 'half', matches: [{ headers: [{ name: 'x-fault', value: 'half' }] }], backendRefs: backend, fault: { policy: 'default/half-abort', abort: { httpStatus: 503, percentage: 50 } } },
            { name: 'slow', matches: [{ headers: [{ name: 'x-fault', value: 'slow' }] }], backendRefs: backend, fault: { policy: 'default/slow', delay: { fixedDelayMs: DELAY_MS } } },
            { name: 'teapot', matches: [{ headers: [{ name: 'x-fault', value: 'teapot' }] }], backendRefs: backend, fault: { policy: 'default/teapot', delay: { fixedDelayMs: 50 }, abort: { httpStatus: 418 } } },
            {
              name: 'some',
              matches: [{ headers: [{ name: 'x-fault', value: 'some' }] }],
              backendRefs: backend,
              fault: {
                policy: 'default/some',
                matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }, { headers: [{ name: 'x-drill', value: 'on' }], queryParams: [{ name: 'mode', value: 'fail' }] }],
                abort: { httpStatus: 502 },
              },
            },
            { name: 'rest', backendRefs: backend },
          ],
        },
        {
          name: 'grpcsvc',
          ports: [{ port: 50051, protocol: 'grpc' }],
          routes: [
            { name: 'unary', matches: [{ grpc: { method: 'Unary' } }], backendRefs: [{ service: 'grpcsvc.default' }], fault: { policy: 'default/grpc-abort', abort: { grpcStatus: 'ABORTED' } } },
            { name: 'rest', backendRefs: [{ service: 'grpcsvc.default' }] },
          ],
        },
      ],
      endpoints: { 'svc.default': [{ address: '127.0.0.1', port: app.port }], 'grpcsvc.default': [{ address: '127.0.0.1', port: grpcApp.port }] },
    }),
    ['--service', 'client', '--upstream', 'svc:0', '--upstream', 'grpcsvc:0'],
  );
  const svc = upstreamPortOf(caller, 'svc');
  const grpcsvc = upstreamPortOf(caller, 'grpcsvc');
  world = { app, grpcApp, caller, svc, grpcsvc };
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

const w = (): World => {
  assert.ok(world !== undefined, 'the mesh is started before the tests');
  return world;
};

/** GET /hello (or `path`, with `init`), to the rule named by `x-fault` (no header: the rule without faults). */
const call = async (fault?: string, path = '/hello', init: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; error: string }> => {
  const headers: Record<string, string> = { ...(fault === undefined ? {} : { 'x-fault': fault }), ...init.headers };
  const res = await fetch(`http://127.0.0.1:${w().svc}${path}`, { method: init.method ?? 'GET', headers, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return { status: res.status, error: res.headers.get('x-weft-error') ?? '' };
};

describe('FaultPolicy faults in the calling proxy', { timeout: 120_000 }, () => {
  test('a 50% abort aborts about half of the requests, with FI and the policy status; the rest reach the app', async () => {
    const n = 400;
    const before = w().app.requests;
    let aborted = 0;
    for (let i = 0; i < n; i++) {
      const r = await call('half');
      if (r.status === 503) {
        aborted++;
        assert.match(r.error, /^WEFT_ERR_PROXY_FAULT_ABORT \(FI\) at outbound proxy=client\.default service=svc\.default route=half: FaultPolicy default\/half-abort aborted/);
      } else assert.equal(r.status, 200);
    }
    // Binomial(400, 0.5): 5 standard deviations are 50 either side of 200.
    assert.ok(aborted >= 150 && aborted <= 250, `${aborted} of ${n} aborted`);
    assert.equal(w().app.requests - before, n - aborted, 'aborted requests never leave the caller');
  });

  test('a delay holds every request at least its time, and the response is the app’s', async () => {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await call('slow');
      const elapsed = performance.now() - t0;
      assert.equal(r.status, 200);
      assert.ok(elapsed >= DELAY_MS, `delayed ${Math.round(elapsed)} ms`);
    }
  });

  test('delay then abort with the policy HTTP status', async () => {
    const before = w().app.requests;
    const r = await call('teapot');
    assert.equal(r.status, 418);
    assert.match(r.error, /FaultPolicy default\/teapot aborted the request with HTTP 418/);
    assert.equal((await call()).status, 200, 'rules without faults are untouched');
    assert.equal(w().app.requests - before, 1);
  });

  test('a fault with matches aborts only the requests of its rule that meet one of them', async () => {
    const before = w().app.requests;
    const aborted = [
      await call('some', '/api/items', { method: 'POST' }),
      await call('some', '/api', { method: 'POST' }),
      await call('some', '/hello?mode=fail', { headers: { 'x-drill': 'on' } }),
    ];
    for (const r of aborted) {
      assert.equal(r.status, 502);
      assert.match(r.error, /^WEFT_ERR_PROXY_FAULT_ABORT \(FI\) at outbound proxy=client\.default service=svc\.default route=some: FaultPolicy default\/some aborted/);
    }
    const through = [
      await call('some', '/api/items'),
      await call('some', '/apix', { method: 'POST' }),
      await call('some', '/hello?mode=ok', { headers: { 'x-drill': 'on' } }),
      await call('some', '/hello?mode=fail'),
      await call(undefined, '/api', { method: 'POST' }),
    ];
    // The echo app answers its own status (404 off /hello); no answer comes from a fault.
    assert.deepEqual(
      through.map((r) => r.error),
      ['', '', '', '', ''],
    );
    assert.equal(w().app.requests - before, through.length, 'aborted requests never leave the caller');
  });

  test('gRPC: the abort answers with the policy gRPC status; other methods go through', async () => {
    const grpc = grpcEchoClient(`127.0.0.1:${w().grpcsvc}`);
    try {
      const before = w().grpcApp.calls;
      const aborted = await grpc.unary({ message: 'hi' });
      assert.equal(aborted.code, status.ABORTED, aborted.details);
      assert.match(aborted.details, /WEFT_ERR_PROXY_FAULT_ABORT \(FI\)/);
      const ok = await grpc.serverStream({ message: 'hi', count: 2 });
      assert.equal(ok.code, status.OK, ok.details);
      assert.equal(w().grpcApp.calls - before, 1, `only ${ECHO_METHODS.ServerStream.path} reached the app`);
    } finally {
      grpc.close();
    }
  });

  test('faulted requests are told apart in metrics: FI and DI response flags', async () => {
    await eventually('the caller counts the delayed requests', async () => {
      const text = (await adminGet(w().caller, '/metrics')).text;
      return metric(text, 'istio_requests_total', { reporter: 'source', response_flags: 'DI' }) === 3;
    });
    const text = (await adminGet(w().caller, '/metrics')).text;
    assert.ok((metric(text, 'istio_requests_total', { reporter: 'source', response_code: '503', response_flags: 'FI' }) ?? 0) >= 150);
    assert.equal(metric(text, 'istio_requests_total', { reporter: 'source', response_code: '418', response_flags: 'FI' }), 1);
  });
});
