import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../resilience/clock.js';
import { VirtualClock } from '../resilience/virtual-clock.js';
import type { BalancedEndpoint } from './balancer.js';
import { PeakEwmaBalancer } from './peak-ewma.js';
import { makeEndpoints } from './test-endpoints.js';

/** Sends one request every `everyMs` for `forMs`, each taking the latency the function gives; returns picks per endpoint. */
const run = (clock: VirtualClock, lb: PeakEwmaBalancer<BalancedEndpoint>, latency: (e: BalancedEndpoint) => number, forMs: number, everyMs = 100) => {
  const picks = new Map<string, number>();
  for (let t = 0; t < forMs; t += everyMs) {
    const e = lb.pick();
    if (e === undefined) throw new Error('no endpoint');
    picks.set(e.key, (picks.get(e.key) ?? 0) + 1);
    lb.onRequestStart(e);
    const ms = latency(e);
    clock.tick(Math.min(ms, everyMs));
    lb.onRequestEnd(e, { latencyMs: ms, success: true });
    clock.tick(everyMs - Math.min(ms, everyMs));
  }
  return picks;
};

test('the faster endpoint gets the traffic', () => {
  const clock = new VirtualClock();
  const [fast, slow] = makeEndpoints(2);
  if (fast === undefined || slow === undefined) throw new Error('two endpoints');
  const lb = new PeakEwmaBalancer([fast, slow], { clock, random: seededRandom(1) });
  const picks = run(clock, lb, (e) => (e === fast ? 10 : 80), 10_000);
  assert.ok((picks.get(fast.key) ?? 0) >= 95, JSON.stringify([...picks]));
});

test('a latency peak counts at once; recovery from it is gradual', () => {
  const clock = new VirtualClock();
  const [a] = makeEndpoints(1);
  if (a === undefined) throw new Error('endpoint');
  const lb = new PeakEwmaBalancer([a], { clock, random: seededRandom(2), decayMs: 10_000 });
  assert.equal(lb.estimateOf(a.key), 30, 'the default before any response');
  lb.onRequestStart(a);
  lb.onRequestEnd(a, { latencyMs: 10, success: true });
  assert.equal(lb.estimateOf(a.key), 10);
  lb.onRequestStart(a);
  lb.onRequestEnd(a, { latencyMs: 500, success: true });
  assert.equal(lb.estimateOf(a.key), 500, 'a peak replaces the estimate');
  clock.tick(1000);
  lb.onRequestStart(a);
  lb.onRequestEnd(a, { latencyMs: 10, success: true });
  // 500 decays by e^(-0.1) over 1 s, and the sample gets the remaining weight.
  const w = Math.exp(-0.1);
  assert.ok(Math.abs(lb.estimateOf(a.key) - (500 * w + 10 * (1 - w))) < 1e-9);
  clock.tick(10_000);
  assert.ok(lb.estimateOf(a.key) < 500 * w * Math.exp(-1) + 1, 'idle time decays the estimate');
});

test('requests in flight are a penalty: a fast endpoint that is busy loses to an idle slower one', () => {
  const clock = new VirtualClock();
  const [fast, slow] = makeEndpoints(2);
  if (fast === undefined || slow === undefined) throw new Error('two endpoints');
  const lb = new PeakEwmaBalancer([fast, slow], { clock, random: seededRandom(3) });
  lb.onRequestStart(fast);
  lb.onRequestEnd(fast, { latencyMs: 10, success: true });
  lb.onRequestStart(slow);
  lb.onRequestEnd(slow, { latencyMs: 100, success: true });
  assert.equal(lb.pick()?.key, fast.key);
  for (let i = 0; i < 10; i++) lb.onRequestStart(fast);
  assert.equal(lb.pick()?.key, slow.key, '10 ms × 11 is more than 100 ms × 1');
});

test('an endpoint that was slow is tried again after its estimate decays, and wins back traffic once fast', () => {
  const clock = new VirtualClock();
  const [a, b] = makeEndpoints(2);
  if (a === undefined || b === undefined) throw new Error('two endpoints');
  const lb = new PeakEwmaBalancer([a, b], { clock, random: seededRandom(4), decayMs: 5_000 });
  let bSlow = true;
  run(clock, lb, (e) => (e === b && bSlow ? 1000 : 20), 10_000);
  bSlow = false;
  const afterRecovery = run(clock, lb, () => 20, 60_000);
  // Both answer in 20 ms now: b must get a real share again (it would get none if starved).
  assert.ok((afterRecovery.get(b.key) ?? 0) > 150, JSON.stringify([...afterRecovery]));
});

test('bad options are refused', () => {
  const clock = new VirtualClock();
  assert.throws(() => new PeakEwmaBalancer(makeEndpoints(1), { clock, random: seededRandom(1), decayMs: 0 }), RangeError);
  assert.throws(() => new PeakEwmaBalancer(makeEndpoints(1), { clock, random: seededRandom(1), defaultRttMs: -1 }), RangeError);
  assert.equal(new PeakEwmaBalancer([], { clock, random: seededRandom(1) }).pick(), undefined);
});
