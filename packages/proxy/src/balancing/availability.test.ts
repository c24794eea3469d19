import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutlierDetector } from '../resilience/outlier-detector.js';
import { VirtualClock } from '../resilience/virtual-clock.js';
import { allOf, AvailableEndpoints, ALWAYS_AVAILABLE } from './availability.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

test('allOf: available only when every source agrees; its version moves with any of them', () => {
  const a = new ManualAvailability();
  const b = new ManualAvailability();
  const both = allOf(a, b);
  const v0 = both.version;
  a.down('x');
  assert.notEqual(both.version, v0);
  assert.equal(both.isAvailable('x'), false);
  b.down('y');
  assert.equal(both.isAvailable('y'), false);
  a.up('x');
  assert.equal(both.isAvailable('x'), true);
  assert.equal(allOf(), ALWAYS_AVAILABLE);
  assert.equal(allOf(a), a);
});

test('the available list is recomputed only when the version moves', () => {
  const eps = makeEndpoints(3);
  const avail = new ManualAvailability();
  const list = new AvailableEndpoints(eps, avail);
  const g = list.generation;
  assert.equal(list.list.length, 3);
  assert.equal(list.generation, g, 'reading does not recompute');
  avail.down(eps[0]?.key ?? '');
  assert.deepEqual(
    list.list.map((e) => e.key),
    eps.slice(1).map((e) => e.key),
  );
  assert.equal(list.generation, g + 1);
  assert.equal(list.availableCount, 2);
});

test('when nothing is available, every endpoint is used (panic), and the count of available says 0', () => {
  const eps = makeEndpoints(2);
  const avail = new ManualAvailability();
  const list = new AvailableEndpoints(eps, avail);
  avail.down(...eps.map((e) => e.key));
  assert.equal(list.panic, true);
  assert.equal(list.list.length, 2);
  assert.equal(list.availableCount, 0);
  assert.equal(new AvailableEndpoints([], avail).panic, false);
});

test('an outlier detector is an availability source as is', () => {
  const clock = new VirtualClock();
  const d = new OutlierDetector(
    { consecutive5xx: 1, consecutiveGatewayErrors: 0, intervalMs: 1000, baseEjectionTimeMs: 1000, maxEjectionTimeMs: 1000, maxEjectionPercent: 50 },
    { clock },
  );
  const eps = makeEndpoints(2);
  d.setEndpoints(eps.map((e) => e.key));
  const list = new AvailableEndpoints(eps, d);
  d.record(eps[0]?.key ?? '', { kind: 'connect-failure' });
  assert.deepEqual(
    list.list.map((e) => e.key),
    [eps[1]?.key],
  );
  clock.tick(1000);
  d.tick();
  assert.equal(list.list.length, 2);
});
