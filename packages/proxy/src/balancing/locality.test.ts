import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import type { BalancedEndpoint } from './balancer.js';
import { keyHashes } from './consistent-hash-fixture.js';
import { LocalityBalancer, localityTiers, tierShares, type LocalitySpec } from './locality.js';
import { RoundRobinBalancer } from './round-robin.js';
import { RingHashBalancer } from './ring-hash.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const ZONES = ['a', 'a', 'a', 'b', 'b', 'c', 'c', 'd'];
const REGIONS: Record<string, string> = { a: 'eu', b: 'us', c: 'eu', d: 'us' };
const eps = makeEndpoints(ZONES.length, (i) => ({ zone: ZONES[i] ?? '', region: REGIONS[ZONES[i] ?? ''] ?? '' }));
const SPEC: LocalitySpec = { enabled: true, minHealthyPercentage: 70 };
const zonesOf = (tiers: BalancedEndpoint[][]) => tiers.map((t) => [...new Set(t.map((e) => e.labels.zone))].join('+'));

test('tiers: own zone, then the failover zones in order, then everything else', () => {
  assert.deepEqual(zonesOf(localityTiers(eps, SPEC, { zone: 'a' })), ['a', 'b+c+d'], 'no rule, no region: the rest alike');
  assert.deepEqual(zonesOf(localityTiers(eps, SPEC, { zone: 'a', region: 'eu' })), ['a', 'c', 'b+d'], 'the same region comes first');
  const withRule = { ...SPEC, failover: [{ from: 'a', to: ['d', 'b'] }] };
  assert.deepEqual(zonesOf(localityTiers(eps, withRule, { zone: 'a', region: 'eu' })), ['a', 'd', 'b', 'c']);
  assert.deepEqual(zonesOf(localityTiers(eps, withRule, { zone: 'b' })), ['b', 'a+c+d'], 'the rule is for zone a only');
  assert.deepEqual(zonesOf(localityTiers(eps, SPEC, { zone: 'z' })), ['a+b+c+d'], 'an empty own zone is left out');
  assert.deepEqual(zonesOf(localityTiers(eps, { ...SPEC, enabled: false }, { zone: 'a' })), ['a+b+c+d']);
  assert.deepEqual(zonesOf(localityTiers(eps, SPEC, {})), ['a+b+c+d'], 'a caller without a zone');
  assert.deepEqual(localityTiers([], SPEC, { zone: 'a' }), []);
});

test('shares: a tier keeps all its traffic down to the threshold, then spills in proportion', () => {
  const close = (got: number[], want: number[], why = '') => got.forEach((g, i) => assert.ok(Math.abs(g - (want[i] ?? 0)) < 1e-9, `${got.join()} vs ${want.join()} ${why}`));
  close(tierShares([1, 1], 70), [1, 0]);
  close(tierShares([0.7, 1], 70), [1, 0]);
  close(tierShares([0.35, 1], 70), [0.5, 0.5]);
  close(tierShares([0, 1, 1], 70), [0, 1, 0]);
  close(tierShares([0, 0.35, 1], 70), [0, 0.5, 0.5]);
  close(tierShares([0.35, 0.35], 70), [0.5, 0.5], 'together short of 1: scaled up');
  close(tierShares([0, 0], 70), [1, 0], 'nothing available: the first tier takes all');
  close(tierShares([0.01, 1], 0), [1, 0], 'threshold 0: any available endpoint keeps the traffic');
  close(tierShares([0.5, 1], 100), [0.5, 0.5]);
});

const build = (availability: ManualAvailability, spec: LocalitySpec = SPEC) =>
  new LocalityBalancer(eps, { spec, caller: { zone: 'a' }, availability, random: seededRandom(9), makeBalancer: (list) => new RoundRobinBalancer(list, { random: seededRandom(1), availability }) });

const zoneCounts = (lb: LocalityBalancer<BalancedEndpoint>, picks: number): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const z = lb.pick()?.labels.zone ?? '-';
    counts[z] = (counts[z] ?? 0) + 1;
  }
  return counts;
};

test('a healthy local zone gets all the traffic', () => {
  const lb = build(new ManualAvailability());
  assert.deepEqual(zoneCounts(lb, 1000), { a: 1000 });
  assert.deepEqual(lb.shares, [1, 0]);
});

test('a degraded zone spills in proportion; a dead one fails over; a recovered one gets its traffic back', () => {
  const avail = new ManualAvailability();
  const lb = build(avail);
  const [a1, a2] = [eps[0]?.key ?? '', eps[1]?.key ?? ''];
  avail.down(a1);
  // 2 of 3 healthy is 66.7%, below 70%: the zone keeps 0.667 / 0.7 = 95.2% of its traffic.
  const degraded = zoneCounts(lb, 10_000);
  assert.ok((degraded.a ?? 0) > 9300 && (degraded.a ?? 0) < 9700, JSON.stringify(degraded));
  avail.down(a2, eps[2]?.key ?? '');
  const dead = zoneCounts(lb, 1000);
  assert.equal(dead.a, undefined, 'no traffic to a zone without healthy endpoints');
  assert.ok((dead.b ?? 0) > 0 && (dead.c ?? 0) > 0 && (dead.d ?? 0) > 0, JSON.stringify(dead));
  avail.up(a1, a2, eps[2]?.key ?? '');
  assert.deepEqual(zoneCounts(lb, 1000), { a: 1000 });
});

test('load events reach the balancer of the endpoint\'s tier', () => {
  const avail = new ManualAvailability();
  const lb = build(avail);
  const seen: string[] = [];
  const tracking = new LocalityBalancer(eps, {
    spec: SPEC,
    caller: { zone: 'a' },
    random: seededRandom(1),
    makeBalancer: (list) => ({
      pick: () => list[0],
      onRequestStart: (e) => seen.push(`start ${e.labels.zone ?? ''} in ${list.length}`),
      onRequestEnd: (e) => seen.push(`end ${e.labels.zone ?? ''} in ${list.length}`),
    }),
  });
  const a = eps[0];
  const d = eps[7];
  if (a === undefined || d === undefined) throw new Error('endpoints');
  tracking.onRequestStart(a);
  tracking.onRequestEnd(d, { latencyMs: 1, success: true });
  tracking.onRequestStart({ key: 'unknown:1', labels: {}, weight: 1 });
  assert.deepEqual(seen, ['start a in 3', 'end d in 5']);
  assert.ok(lb.pick() !== undefined);
});

test('with a hash, a key keeps its tier and its endpoint', () => {
  const avail = new ManualAvailability();
  const lb = new LocalityBalancer(eps, {
    spec: SPEC,
    caller: { zone: 'a' },
    availability: avail,
    random: () => {
      throw new Error('hashed picks use no randomness');
    },
    makeBalancer: (list) => new RingHashBalancer(list, { random: seededRandom(1), availability: avail }),
  });
  avail.down(eps[0]?.key ?? '');
  const hashes = keyHashes(2000);
  const first = hashes.map((hash) => lb.pick({ hash })?.key);
  assert.deepEqual(
    hashes.map((hash) => lb.pick({ hash })?.key),
    first,
  );
  const spilled = first.filter((k) => !k?.startsWith('10.0.0.1:') && !k?.startsWith('10.0.0.2:') && !k?.startsWith('10.0.0.3:')).length;
  // 4.8% of keys spill when a third of zone a is out; the hash spreads them like random draws.
  assert.ok(spilled > 40 && spilled < 160, String(spilled));
});

test('no endpoints, no pick', () => {
  const lb = new LocalityBalancer([], { spec: SPEC, caller: { zone: 'a' }, random: seededRandom(1), makeBalancer: (l) => new RoundRobinBalancer(l, { random: seededRandom(1) }) });
  assert.equal(lb.pick(), undefined);
});
