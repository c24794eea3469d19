import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import { assignments, keyHashes, movement, spread } from './consistent-hash-fixture.js';
import { buildRing, entriesPerWeight, RingHashBalancer } from './ring-hash.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const KEYS = keyHashes(10_000);

test('the ring holds at least the minimum, entries in proportion to weight', () => {
  assert.equal(buildRing(makeEndpoints(10), 1024, 8_388_608).hashes.length, 10_240, '1024 per endpoint');
  assert.equal(buildRing(makeEndpoints(3), 1000, 8_388_608).hashes.length, 3072, 'the minimum rounded up to a power of two, per endpoint');
  const weighted = buildRing(makeEndpoints(2, () => ({}), (i) => i + 1), 1024, 8_388_608);
  const owned = [0, 0];
  for (const o of weighted.owners) owned[o] = (owned[o] ?? 0) + 1;
  assert.deepEqual(owned, [1024, 2048]);
  assert.equal(buildRing(makeEndpoints(10), 1024, 5000).hashes.length, 2560, 'the maximum halves the entries');
  assert.equal(buildRing([], 1024, 2000).hashes.length, 0);
  const ring = buildRing(makeEndpoints(10), 1024, 8_388_608).hashes;
  assert.ok(ring.every((h, i) => i === 0 || (ring[i - 1] ?? 0) <= h), 'sorted');
});

test('entries per unit of weight are a power of two between the bounds', () => {
  assert.equal(entriesPerWeight(10, 1024, 8_388_608), 1024);
  assert.equal(entriesPerWeight(9, 1024, 8_388_608), 1024, 'one endpoint fewer: unchanged');
  assert.equal(entriesPerWeight(3, 1024, 8_388_608), 1024, 'whatever the number of endpoints');
  assert.equal(entriesPerWeight(1, 1000, 8_388_608), 1024, 'the minimum, rounded up to a power of two');
  assert.equal(entriesPerWeight(10_000, 1024, 8_388_608), 512, 'halved only to stay within the maximum');
  assert.equal(entriesPerWeight(5_000_000, 1024, 8_388_608), 1);
  assert.equal(entriesPerWeight(10, 1024, 5), 1, 'never below one entry per unit of weight');
});

test('the same key always reaches the same endpoint, and keys spread over all endpoints', () => {
  const rh = new RingHashBalancer(makeEndpoints(10), { random: seededRandom(1) });
  const first = assignments(rh, KEYS);
  assert.deepEqual(assignments(rh, KEYS), first);
  const counts = [...spread(first).values()];
  assert.equal(counts.length, 10);
  // 1000 keys per endpoint on average; 1024 entries each keep every one within ±30%.
  assert.ok(Math.min(...counts) > 700 && Math.max(...counts) < 1300, counts.join(','));
});

test('when one of N endpoints leaves, only its own keys move (about 1/N of them)', () => {
  for (const n of [5, 10, 50]) {
    const eps = makeEndpoints(n);
    const removed = eps[Math.floor(n / 2)];
    if (removed === undefined) throw new Error('endpoint');
    const before = assignments(new RingHashBalancer(eps, { random: seededRandom(1) }), KEYS);
    const after = assignments(
      new RingHashBalancer(
        eps.filter((e) => e !== removed),
        { random: seededRandom(1) },
      ),
      KEYS,
    );
    const m = movement(before, after, removed.key);
    assert.equal(m.movedFromOthers, 0, `n=${n}: keys of other endpoints stay`);
    assert.equal(m.moved, m.onRemoved, `n=${n}: every key of the removed endpoint moves`);
    const ideal = KEYS.length / n;
    assert.ok(m.moved > ideal * 0.4 && m.moved < ideal * 1.7, `n=${n}: ${m.moved} moved, ideal ${ideal}`);
  }
});

test('an ejected endpoint\'s keys move while it is out and come back when it returns', () => {
  const eps = makeEndpoints(10);
  const avail = new ManualAvailability();
  const rh = new RingHashBalancer(eps, { random: seededRandom(1), availability: avail });
  const before = assignments(rh, KEYS);
  const out = eps[3]?.key ?? '';
  avail.down(out);
  const during = assignments(rh, KEYS);
  assert.equal(movement(before, during, out).movedFromOthers, 0);
  assert.ok(!during.includes(out));
  avail.up(out);
  assert.deepEqual(assignments(rh, KEYS), before);
});

test('a request without a hash is balanced by least request', () => {
  const eps = makeEndpoints(2);
  const [a, b] = eps;
  if (a === undefined || b === undefined) throw new Error('two endpoints');
  const rh = new RingHashBalancer(eps, { random: seededRandom(1) });
  rh.onRequestStart(a);
  for (let i = 0; i < 20; i++) assert.equal(rh.pick()?.key, b.key);
  rh.onRequestEnd(a, { latencyMs: 1, success: true });
  rh.onRequestStart(b);
  assert.equal(rh.pick({})?.key, a.key);
  assert.equal(new RingHashBalancer([], { random: seededRandom(1) }).pick({ hash: 1 }), undefined);
});

test('ring sizes are checked', () => {
  assert.throws(() => new RingHashBalancer(makeEndpoints(1), { random: seededRandom(1), minimumRingSize: 0 }), RangeError);
  assert.throws(() => new RingHashBalancer(makeEndpoints(1), { random: seededRandom(1), minimumRingSize: 10, maximumRingSize: 5 }), RangeError);
  assert.equal(new RingHashBalancer(makeEndpoints(4), { random: seededRandom(1), minimumRingSize: 64 }).ringSize, 256);
});
