import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxySnapshotSchema, type ProxySnapshot } from '@weft/api/data-plane';
import { ProxyError } from '../errors/proxy-error.js';
import { seededRandom } from '../resilience/clock.js';
import { VirtualClock } from '../resilience/virtual-clock.js';
import { Http2RouteRequest } from '../routing/route-request.js';
import { interceptFault, type FaultableExchange } from './inject.js';

const snapshotWith = (fault: object): ProxySnapshot =>
  ProxySnapshotSchema.parse({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ProxySnapshot',
    routesVersion: 'r',
    endpointsVersion: 'e',
    services: [{ name: 'svc', routes: [{ name: 'main', backendRefs: [{ service: 'svc.default' }], fault }] }],
  });

const routed = { service: { key: 'svc.default' }, hop: { direction: 'outbound' as const, proxy: 'client.default', service: 'svc.default', route: 'main' } };

const req = new Http2RouteRequest('GET', '/hello', {}, false);

/** An exchange that records how it ended. */
class RecordingExchange implements FaultableExchange {
  flag = '-';
  failed: unknown;
  ended = false;
  fail(error: unknown): void {
    this.failed = error;
    this.ended = true;
  }
}

test('a delay holds the request exactly its time on the clock, flags DI, then lets it go on once', async () => {
  const clock = new VirtualClock();
  const snapshot = snapshotWith({ policy: 'default/slow', delay: { fixedDelayMs: 500 } });
  const ex = new RecordingExchange();
  let resumed = 0;
  const resume = (): void => {
    resumed++;
    // The handler runs again after the delay: the fault is not applied twice.
    assert.equal(interceptFault(ex, () => ex.ended, snapshot, routed, req, resume, { random: seededRandom(1), timer: clock }), false);
  };
  assert.equal(interceptFault(ex, () => ex.ended, snapshot, routed, req, resume, { random: seededRandom(1), timer: clock }), true);
  assert.equal(ex.flag, 'DI');
  await clock.advance(499);
  assert.equal(resumed, 0);
  await clock.advance(1);
  assert.equal(resumed, 1);
  assert.equal(ex.failed, undefined);
});

test('delayed then aborted; a client gone during the delay gets nothing', async () => {
  const clock = new VirtualClock();
  const snapshot = snapshotWith({ policy: 'default/both', delay: { fixedDelayMs: 100 }, abort: { httpStatus: 500 } });
  const ex = new RecordingExchange();
  assert.equal(interceptFault(ex, () => ex.ended, snapshot, routed, req, () => assert.fail('aborted requests do not go on'), { random: seededRandom(1), timer: clock }), true);
  await clock.advance(100);
  assert.ok(ex.failed instanceof ProxyError);
  assert.equal(ex.failed.code, 'WEFT_ERR_PROXY_FAULT_ABORT');

  const gone = new RecordingExchange();
  interceptFault(gone, () => true, snapshot, routed, req, () => assert.fail('not resumed'), { random: seededRandom(1), timer: clock });
  await clock.advance(100);
  assert.equal(gone.failed, undefined);
});

test('a resume that throws (the service left the config) fails the request instead of the process', async () => {
  const clock = new VirtualClock();
  const ex = new RecordingExchange();
  interceptFault(ex, () => ex.ended, snapshotWith({ policy: 'default/slow', delay: { fixedDelayMs: 10 } }), routed, req, () => {
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', 'gone', routed.hop);
  }, { random: seededRandom(1), timer: clock });
  await clock.advance(10);
  assert.equal((ex.failed as ProxyError).code, 'WEFT_ERR_PROXY_NO_ROUTE');
});

test('rules without faults, and requests outside the share, go on untouched', () => {
  const ex = new RecordingExchange();
  const noFault = ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r', endpointsVersion: 'e', services: [{ name: 'svc' }] });
  assert.equal(interceptFault(ex, () => false, noFault, routed, req, () => {}), false);
  const never = snapshotWith({ policy: 'default/never', abort: { httpStatus: 503, percentage: 0 } });
  assert.equal(interceptFault(new RecordingExchange(), () => false, never, routed, req, () => {}), false);
  assert.equal(ex.flag, '-');
});

test('a fault with matches strikes only the requests of its rule that meet one of them', () => {
  const snapshot = snapshotWith({
    policy: 'default/some',
    matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }, { headers: [{ name: 'x-drill', value: 'on' }], queryParams: [{ name: 'mode', value: 'fail' }] }],
    abort: { httpStatus: 503 },
  });
  const verdict = (method: string, target: string, headers: Record<string, string> = {}): boolean => {
    const ex = new RecordingExchange();
    const took = interceptFault(ex, () => ex.ended, snapshot, routed, new Http2RouteRequest(method, target, headers, false), () => assert.fail('aborts only'));
    assert.equal(took, ex.failed !== undefined);
    return took;
  };
  assert.equal(verdict('POST', '/api/items?x=1'), true);
  assert.equal(verdict('POST', '/api'), true);
  assert.equal(verdict('GET', '/api/items'), false, 'the method is part of the first match');
  assert.equal(verdict('POST', '/apix'), false, 'whole path segments');
  assert.equal(verdict('GET', '/other?mode=fail', { 'x-drill': 'on' }), true);
  assert.equal(verdict('GET', '/other?mode=ok', { 'x-drill': 'on' }), false);
  assert.equal(verdict('GET', '/other'), false);
});
