import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import { VirtualClock } from '../resilience/virtual-clock.js';
import { buildBalancer, DEFAULT_LOAD_BALANCER, selectSubset, type LoadBalancerSpec } from './build-balancer.js';
import { LeastRequestBalancer } from './least-request.js';
import { LocalityBalancer } from './locality.js';
import { MaglevBalancer } from './maglev.js';
import { PeakEwmaBalancer } from './peak-ewma.js';
import { RingHashBalancer } from './ring-hash.js';
import { RoundRobinBalancer } from './round-robin.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const eps = makeEndpoints(6, (i) => ({ version: i < 4 ? 'v1' : 'v2', zone: i % 2 === 0 ? 'a' : 'b' }));
const common = { endpoints: eps, clock: new VirtualClock(), random: seededRandom(1) };

test('each algorithm builds its balancer; only hashing ones ask for a hash key', () => {
  const header = { type: 'HEADER' as const, name: 'x-user' };
  const cases: [LoadBalancerSpec, unknown][] = [
    [{ type: 'ROUND_ROBIN' }, RoundRobinBalancer],
    [DEFAULT_LOAD_BALANCER, LeastRequestBalancer],
    [{ type: 'PEAK_EWMA', decayMs: 10_000 }, PeakEwmaBalancer],
    [{ type: 'RING_HASH', hashKey: header, minimumRingSize: 1024, maximumRingSize: 8_388_608 }, RingHashBalancer],
    [{ type: 'MAGLEV', hashKey: header, tableSize: 65_537 }, MaglevBalancer],
  ];
  for (const [loadBalancer, kind] of cases) {
    const built = buildBalancer({ ...common, loadBalancer });
    assert.ok(built.balancer instanceof (kind as new (...a: never[]) => object), loadBalancer.type);
    assert.deepEqual(built.hashKey, loadBalancer.type === 'RING_HASH' || loadBalancer.type === 'MAGLEV' ? header : undefined);
    assert.ok(built.balancer.pick() !== undefined);
  }
});

test('a subset keeps only the endpoints carrying all its labels', () => {
  assert.equal(selectSubset(eps, { version: 'v2' }).length, 2);
  assert.equal(selectSubset(eps, { version: 'v1', zone: 'a' }).length, 2);
  assert.equal(selectSubset(eps, { version: 'v3' }).length, 0);
  assert.equal(selectSubset(eps, undefined).length, 6);
  assert.equal(selectSubset(eps, {}).length, 6);
  const { balancer } = buildBalancer({ ...common, loadBalancer: { type: 'ROUND_ROBIN' }, subset: { version: 'v2' } });
  const seen = new Set(Array.from({ length: 10 }, () => balancer.pick()?.labels.version));
  assert.deepEqual(seen, new Set(['v2']));
  assert.equal(buildBalancer({ ...common, loadBalancer: { type: 'ROUND_ROBIN' }, subset: { version: 'v9' } }).balancer.pick(), undefined);
});

test('locality wraps the algorithm when enabled and the caller has a zone', () => {
  const availability = new ManualAvailability();
  const locality = { enabled: true, minHealthyPercentage: 70 };
  const { balancer } = buildBalancer({ ...common, loadBalancer: DEFAULT_LOAD_BALANCER, locality, caller: { zone: 'b' }, availability });
  assert.ok(balancer instanceof LocalityBalancer);
  for (let i = 0; i < 50; i++) assert.equal(balancer.pick()?.labels.zone, 'b');
  availability.down(...eps.filter((e) => e.labels.zone === 'b').map((e) => e.key));
  for (let i = 0; i < 50; i++) assert.equal(balancer.pick()?.labels.zone, 'a');
  assert.ok(!(buildBalancer({ ...common, loadBalancer: DEFAULT_LOAD_BALANCER, locality, caller: {} }).balancer instanceof LocalityBalancer));
  assert.ok(!(buildBalancer({ ...common, loadBalancer: DEFAULT_LOAD_BALANCER, locality: { ...locality, enabled: false }, caller: { zone: 'b' } }).balancer instanceof LocalityBalancer));
});
