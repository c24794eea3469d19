import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import { assignments, keyHashes, movement, spread } from './consistent-hash-fixture.js';
import { buildMaglevTable, MaglevBalancer } from './maglev.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const KEYS = keyHashes(10_000);

const slotsPerEndpoint = (table: Int32Array): number[] => {
  const counts: number[] = [];
  for (const s of table) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
};

test('the table is full, and shared out evenly: equal weights differ by at most one slot', () => {
  for (const n of [1, 3, 10, 50]) {
    const table = buildMaglevTable(makeEndpoints(n), 65_537);
    assert.ok(!table.includes(-1), `n=${n}: no empty slot`);
    const counts = slotsPerEndpoint(table);
    assert.equal(counts.length, n);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `n=${n}: ${Math.min(...counts)}..${Math.max(...counts)}`);
  }
});

test('slots follow weights', () => {
  const counts = slotsPerEndpoint(buildMaglevTable(makeEndpoints(3, () => ({}), (i) => [1, 2, 5][i] ?? 1), 65_537));
  const unit = 65_537 / 8;
  counts.forEach((c, i) => assert.ok(Math.abs(c - unit * ([1, 2, 5][i] ?? 1)) <= 2, `${i}: ${c}`));
});

test('the same key always reaches the same endpoint', () => {
  const mg = new MaglevBalancer(makeEndpoints(10), { random: seededRandom(1) });
  const first = assignments(mg, KEYS);
  assert.deepEqual(assignments(mg, KEYS), first);
  const counts = [...spread(first).values()];
  assert.ok(Math.min(...counts) > 850 && Math.max(...counts) < 1150, counts.join(','));
});

test('when one of N endpoints leaves, about 1/N of the keys move, few of them from other endpoints', () => {
  for (const n of [5, 10, 50]) {
    const eps = makeEndpoints(n);
    const removed = eps[Math.floor(n / 2)];
    if (removed === undefined) throw new Error('endpoint');
    const before = assignments(new MaglevBalancer(eps, { random: seededRandom(1) }), KEYS);
    const after = assignments(
      new MaglevBalancer(
        eps.filter((e) => e !== removed),
        { random: seededRandom(1) },
      ),
      KEYS,
    );
    const m = movement(before, after, removed.key);
    assert.equal(m.moved - m.movedFromOthers, m.onRemoved, `n=${n}: every key of the removed endpoint moves`);
    const ideal = KEYS.length / n;
    // Maglev trades a little disruption for its even spread: a few percent of the other keys move.
    assert.ok(m.movedFromOthers < KEYS.length * 0.02, `n=${n}: ${m.movedFromOthers} keys of other endpoints moved`);
    assert.ok(m.moved > ideal * 0.8 && m.moved < ideal * 1.2 + KEYS.length * 0.02, `n=${n}: ${m.moved} moved, ideal ${ideal}`);
  }
});

test('an ejected endpoint\'s keys move while it is out and come back when it returns', () => {
  const eps = makeEndpoints(10);
  const avail = new ManualAvailability();
  const mg = new MaglevBalancer(eps, { random: seededRandom(1), availability: avail });
  const before = assignments(mg, KEYS);
  avail.down(eps[7]?.key ?? '');
  assert.ok(!assignments(mg, KEYS).includes(eps[7]?.key ?? ''));
  avail.up(eps[7]?.key ?? '');
  assert.deepEqual(assignments(mg, KEYS), before);
});

test('no hash falls back to least request; bad table sizes are refused', () => {
  const eps = makeEndpoints(2);
  const mg = new MaglevBalancer(eps, { random: seededRandom(1), tableSize: 251 });
  if (eps[0] === undefined) throw new Error('endpoint');
  mg.onRequestStart(eps[0]);
  assert.equal(mg.pick()?.key, eps[1]?.key);
  mg.onRequestEnd(eps[0], { latencyMs: 1, success: true });
  assert.equal(new MaglevBalancer([], { random: seededRandom(1) }).pick({ hash: 7 }), undefined);
  for (const tableSize of [0, 1, 65_536, 100, 7.5]) assert.throws(() => new MaglevBalancer(eps, { random: seededRandom(1), tableSize }), RangeError, String(tableSize));
  assert.throws(() => buildMaglevTable(eps, 4), RangeError);
});
