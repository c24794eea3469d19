import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoundRobinBalancer } from './round-robin.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const keysOf = (picks: ({ key: string } | undefined)[]) => picks.map((p) => p?.key ?? '-');

test('equal weights: every endpoint in turn, from a random starting place', () => {
  const eps = makeEndpoints(3);
  const rr = new RoundRobinBalancer(eps, { random: () => 0.5 });
  const picks = keysOf(Array.from({ length: 6 }, () => rr.pick()));
  const k = eps.map((e) => e.key);
  assert.deepEqual(picks, [k[1], k[2], k[0], k[1], k[2], k[0]]);
});

test('unequal weights are interleaved smoothly and exactly proportional', () => {
  const eps = makeEndpoints(3, () => ({}), (i) => (i === 0 ? 5 : 1));
  const rr = new RoundRobinBalancer(eps, { random: () => 0 });
  const picks = keysOf(Array.from({ length: 14 }, () => rr.pick()));
  const [a, b, c] = eps.map((e) => e.key);
  assert.deepEqual(picks.slice(0, 7), [a, a, b, a, c, a, a], 'nginx smooth weighted round robin order');
  assert.deepEqual(picks.slice(7), picks.slice(0, 7), 'the sequence repeats every total weight');
});

test('unavailable endpoints are skipped, and picked again once they return', () => {
  const eps = makeEndpoints(3);
  const avail = new ManualAvailability();
  const rr = new RoundRobinBalancer(eps, { random: () => 0, availability: avail });
  const [a, b, c] = eps.map((e) => e.key);
  avail.down(b ?? '');
  assert.deepEqual(new Set(keysOf(Array.from({ length: 10 }, () => rr.pick()))), new Set([a, c]));
  avail.up(b ?? '');
  assert.deepEqual(new Set(keysOf(Array.from({ length: 3 }, () => rr.pick()))), new Set([a, b, c]));
});

test('weighted round robin skips unavailable endpoints too', () => {
  const eps = makeEndpoints(3, () => ({}), (i) => i + 1);
  const avail = new ManualAvailability();
  const rr = new RoundRobinBalancer(eps, { random: () => 0, availability: avail });
  avail.down(eps[2]?.key ?? '');
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const k = rr.pick()?.key ?? '-';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(counts), { [eps[0]?.key ?? '']: 10, [eps[1]?.key ?? '']: 20 });
});

test('no endpoints, no pick; all unavailable, all are used', () => {
  assert.equal(new RoundRobinBalancer([], { random: () => 0 }).pick(), undefined);
  const eps = makeEndpoints(2);
  const avail = new ManualAvailability();
  avail.down(...eps.map((e) => e.key));
  const rr = new RoundRobinBalancer(eps, { random: () => 0, availability: avail });
  assert.equal(new Set(keysOf([rr.pick(), rr.pick()])).size, 2);
});
