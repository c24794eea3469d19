import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import { EndpointLoads } from './endpoint-loads.js';
import { LeastRequestBalancer } from './least-request.js';
import { makeEndpoints, ManualAvailability } from './test-endpoints.js';

const done = { latencyMs: 1, success: true };

test('of two endpoints, the one with fewer requests in flight wins', () => {
  const eps = makeEndpoints(2);
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(1) });
  const [a, b] = eps;
  if (a === undefined || b === undefined) throw new Error('two endpoints');
  for (let i = 0; i < 3; i++) lr.onRequestStart(a);
  for (let i = 0; i < 100; i++) assert.equal(lr.pick()?.key, b.key);
  for (let i = 0; i < 3; i++) lr.onRequestEnd(a, done);
  lr.onRequestStart(b);
  for (let i = 0; i < 100; i++) assert.equal(lr.pick()?.key, a.key);
});

test('an overloaded endpoint is never picked while two others are compared against it', () => {
  const eps = makeEndpoints(10);
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(2) });
  const hot = eps[0];
  if (hot === undefined) throw new Error('endpoint');
  for (let i = 0; i < 100; i++) lr.onRequestStart(hot);
  for (let i = 0; i < 10_000; i++) assert.notEqual(lr.pick()?.key, hot.key);
});

test('requests that stay in flight spread evenly', () => {
  const eps = makeEndpoints(10);
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(3) });
  for (let i = 0; i < 1000; i++) {
    const e = lr.pick();
    if (e !== undefined) lr.onRequestStart(e);
  }
  const active = eps.map((e) => lr.loads.of(e.key).active);
  assert.equal(
    active.reduce((a, b) => a + b, 0),
    1000,
  );
  // Two choices keep the spread within a few requests (random picks would be tens apart).
  assert.ok(Math.max(...active) - Math.min(...active) <= 4, active.join(','));
});

test('with unequal weights, idle endpoints are picked in proportion to weight', () => {
  const eps = makeEndpoints(2, () => ({}), (i) => (i === 0 ? 3 : 1));
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(4) });
  let heavy = 0;
  for (let i = 0; i < 10_000; i++) if (lr.pick()?.key === eps[0]?.key) heavy++;
  // Expected 7500 of 10 000 for a 3:1 split; the bound is far wider than a fixed seed's noise.
  assert.ok(heavy > 7000 && heavy < 8000, String(heavy));
});

test('with unequal weights, load is compared per unit of weight', () => {
  const eps = makeEndpoints(2, () => ({}), (i) => (i === 0 ? 4 : 1));
  const [big, small] = eps;
  if (big === undefined || small === undefined) throw new Error('two endpoints');
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(5), choiceCount: 4 });
  for (let i = 0; i < 6; i++) lr.onRequestStart(big);
  lr.onRequestStart(small);
  lr.onRequestStart(small);
  // big: 6/4 = 1.5 per unit; small: 2/1 = 2. Whenever both are drawn, big wins.
  let bigPicks = 0;
  for (let i = 0; i < 1000; i++) if (lr.pick()?.key === big.key) bigPicks++;
  assert.ok(bigPicks > 990, String(bigPicks));
});

test('ends never drive the count negative; loads survive a rebuild for a new config', () => {
  const loads = new EndpointLoads();
  const eps = makeEndpoints(2);
  const [a, b] = eps;
  if (a === undefined || b === undefined) throw new Error('two endpoints');
  const first = new LeastRequestBalancer(eps, { random: seededRandom(6), loads });
  first.onRequestStart(a);
  first.onRequestStart(a);
  const second = new LeastRequestBalancer(eps, { random: seededRandom(6), loads });
  assert.equal(second.pick()?.key, b.key, 'the new balancer sees the old one\'s requests in flight');
  first.onRequestEnd(a, done);
  first.onRequestEnd(a, done);
  first.onRequestEnd(a, done);
  assert.equal(loads.of(a.key).active, 0);
  loads.retain([b.key]);
  assert.equal(loads.size, 1);
});

test('unavailable endpoints are not picked; none at all gives undefined', () => {
  const eps = makeEndpoints(3);
  const avail = new ManualAvailability();
  const lr = new LeastRequestBalancer(eps, { random: seededRandom(7), availability: avail });
  avail.down(eps[0]?.key ?? '', eps[1]?.key ?? '');
  for (let i = 0; i < 50; i++) assert.equal(lr.pick()?.key, eps[2]?.key);
  assert.equal(new LeastRequestBalancer([], { random: seededRandom(7) }).pick(), undefined);
  assert.throws(() => new LeastRequestBalancer(eps, { random: seededRandom(7), choiceCount: 0 }), RangeError);
});
