import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptOutcome } from './attempt-outcome.js';
import { OutlierDetector, type OutlierDetectionSpec, type OutlierEvent } from './outlier-detector.js';
import { successRateOutliers } from './success-rate.js';
import { VirtualClock } from './virtual-clock.js';

const DEFAULTS: OutlierDetectionSpec = {
  consecutive5xx: 5,
  consecutiveGatewayErrors: 0,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionPercent: 10,
};

const r500: AttemptOutcome = { kind: 'response', status: 500 };
const r503: AttemptOutcome = { kind: 'response', status: 503 };
const r200: AttemptOutcome = { kind: 'response', status: 200 };
const r404: AttemptOutcome = { kind: 'response', status: 404 };

const setup = (spec: Partial<OutlierDetectionSpec> = {}, endpoints = 10) => {
  const clock = new VirtualClock();
  const events: OutlierEvent[] = [];
  const d = new OutlierDetector({ ...DEFAULTS, ...spec }, { clock, onEvent: (e) => events.push(e) });
  const keys = Array.from({ length: endpoints }, (_, i) => `10.0.0.${i + 1}:8080`);
  d.setEndpoints(keys);
  const fail = (key: string, n: number, outcome: AttemptOutcome = r500): void => {
    for (let i = 0; i < n; i++) d.record(key, outcome);
  };
  /** Advances to the next interval and runs it. */
  const interval = (): void => {
    clock.tick(d.spec.intervalMs);
    d.tick();
  };
  return { clock, d, keys, events, fail, interval };
};

test('consecutive 5xx eject at exactly the threshold; a success or a 4xx starts the count again', () => {
  const { d, keys, fail } = setup();
  const k = keys[0] ?? '';
  fail(k, 4);
  d.record(k, r200);
  fail(k, 4);
  d.record(k, r404);
  fail(k, 4);
  assert.equal(d.isEjected(k), false);
  const before = d.version;
  d.record(k, { kind: 'connect-failure' });
  assert.equal(d.isEjected(k), true, 'a connect failure counts as a 5xx');
  assert.notEqual(d.version, before);
  assert.equal(d.isAvailable(k), false);
  assert.equal(d.isEjected('unknown:1'), false);
});

test('consecutive gateway errors: only 502/503/504 and attempts without a response count', () => {
  const { d, keys, fail } = setup({ consecutive5xx: 0, consecutiveGatewayErrors: 3 });
  const k = keys[0] ?? '';
  fail(k, 2, r503);
  d.record(k, r500);
  fail(k, 2, { kind: 'timeout' });
  assert.equal(d.isEjected(k), false, 'a 500 is not a gateway error and broke the run');
  d.record(k, { kind: 'reset' });
  assert.equal(d.isEjected(k), true);
});

test('the ejection time grows with repeated ejections, up to the max, and the endpoint returns after it', () => {
  const { d, keys, fail, interval, events } = setup({ intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionTimeMs: 70_000 });
  const k = keys[0] ?? '';
  const ejectAndTimeOut = (): number => {
    fail(k, 5);
    assert.equal(d.isEjected(k), true);
    let intervals = 0;
    while (d.isEjected(k)) {
      interval();
      intervals++;
    }
    return intervals;
  };
  assert.equal(ejectAndTimeOut(), 3, '30 s');
  assert.equal(ejectAndTimeOut(), 6, '60 s');
  assert.equal(ejectAndTimeOut(), 7, '90 s capped at 70 s: returns at the first interval after');
  assert.equal(ejectAndTimeOut(), 7);
  assert.deepEqual(
    events.filter((e) => e.type === 'ejected').map((e) => (e.type === 'ejected' ? e.durationMs : 0)),
    [30_000, 60_000, 70_000, 70_000],
  );
});

test('an endpoint that stays in after its return earns back its ejection time', () => {
  const { d, keys, fail, interval } = setup({ baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 100_000 });
  const k = keys[0] ?? '';
  for (let i = 0; i < 3; i++) {
    fail(k, 5);
    while (d.isEjected(k)) interval();
  }
  assert.equal(d.ejectionBackoff(k), 3);
  interval();
  assert.equal(d.ejectionBackoff(k), 2);
  interval();
  interval();
  assert.equal(d.ejectionBackoff(k), 0);
  interval();
  assert.equal(d.ejectionBackoff(k), 0, 'never below zero');
  fail(k, 5);
  interval();
  assert.equal(d.isEjected(k), false, 'ejected for the base time again');
});

test('at most maxEjectionPercent of the endpoints are out, rounded down, but always one', () => {
  const cases: [endpoints: number, percent: number, expected: number][] = [
    [10, 10, 1],
    [20, 10, 2],
    [29, 10, 2],
    [3, 10, 1],
    [1, 10, 1],
    [4, 50, 2],
    [5, 0, 1],
    [5, 100, 5],
  ];
  for (const [n, percent, expected] of cases) {
    const { d, keys, fail, events } = setup({ maxEjectionPercent: percent }, n);
    for (const k of keys) fail(k, 5);
    assert.equal(d.ejectedCount, expected, `${n} endpoints at ${percent}%`);
    assert.equal(events.filter((e) => e.type === 'overflow').length, n - expected);
  }
});

test('a returned endpoint frees its place under the cap for the next outlier', () => {
  const { d, keys, fail, interval } = setup({}, 5);
  const [a, b] = [keys[0] ?? '', keys[1] ?? ''];
  fail(a, 5);
  fail(b, 5);
  assert.deepEqual([d.isEjected(a), d.isEjected(b)], [true, false]);
  for (let i = 0; i < 3; i++) interval();
  assert.equal(d.isEjected(a), false);
  fail(b, 5);
  assert.equal(d.isEjected(b), true, 'b needed a fresh run of 5 after its overflow');
});

test('success rate: an endpoint far below the others is ejected at the next interval', () => {
  const { d, keys, interval, events } = setup({ consecutive5xx: 0, maxEjectionPercent: 50, successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 } }, 6);
  keys.forEach((k, i) => {
    // 100 requests each; the first endpoint fails half of them, not in a row.
    for (let j = 0; j < 100; j++) d.record(k, i === 0 && j % 2 === 0 ? r503 : r200);
  });
  assert.equal(d.ejectedCount, 0, 'success rate is judged at the interval, not inline');
  interval();
  assert.deepEqual(
    events.filter((e) => e.type === 'ejected').map((e) => (e.type === 'ejected' ? [e.key, e.reason] : [])),
    [[keys[0], 'success-rate']],
  );
});

test('success rate needs minimumHosts endpoints with requestVolume requests', () => {
  const { d, keys, interval } = setup({ consecutive5xx: 0, maxEjectionPercent: 50, successRate: { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 } }, 6);
  keys.forEach((k, i) => {
    // Only four endpoints reach the volume.
    const n = i < 4 ? 100 : 99;
    for (let j = 0; j < n; j++) d.record(k, i === 0 && j % 2 === 0 ? r503 : r200);
  });
  interval();
  assert.equal(d.ejectedCount, 0);
});

test('success-rate arithmetic is Envoy\'s: {50, 100, 100, 100, 100} gives a threshold of 52', () => {
  const samples = [50, 100, 100, 100, 100].map((s, i) => ({ key: String(i), requests: 100, successes: s }));
  const r = successRateOutliers(samples, { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 });
  assert.equal(r.threshold, 52);
  assert.deepEqual(r.outliers, ['0']);
  assert.deepEqual(successRateOutliers(samples.slice(0, 4), { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 }).outliers, []);
  const equal = [90, 90, 90, 90, 90].map((s, i) => ({ key: String(i), requests: 100, successes: s }));
  assert.deepEqual(successRateOutliers(equal, { minimumHosts: 5, requestVolume: 100, stdevFactor: 1.9 }).outliers, [], 'no spread, no outlier');
});

test('endpoints that leave are forgotten (and their ejection with them); those that stay keep their state', () => {
  const { d, keys, fail } = setup({ maxEjectionPercent: 100 }, 3);
  const [a, b, c] = [keys[0] ?? '', keys[1] ?? '', keys[2] ?? ''];
  fail(a, 5);
  fail(b, 4);
  const v = d.version;
  d.setEndpoints([b, c, 'new:1']);
  assert.equal(d.ejectedCount, 0);
  assert.notEqual(d.version, v, 'a leaving ejected endpoint changes availability');
  d.record(b, r500);
  assert.equal(d.isEjected(b), true, 'b kept its four errors');
  d.record(a, r500);
  assert.equal(d.isEjected(a), false, 'results for unknown endpoints are ignored');
});

test('start() runs the interval on the timer until cancelled', () => {
  const clock = new VirtualClock();
  const d = new OutlierDetector({ ...DEFAULTS, baseEjectionTimeMs: 10_000, maxEjectionTimeMs: 10_000 }, { clock });
  d.setEndpoints(['a:1', 'b:1']);
  for (let i = 0; i < 5; i++) d.record('a:1', r500);
  const handle = d.start(clock);
  clock.tick(9_999);
  assert.equal(d.isEjected('a:1'), true);
  clock.tick(1);
  assert.equal(d.isEjected('a:1'), false);
  handle.cancel();
  for (let i = 0; i < 5; i++) d.record('a:1', r500);
  clock.tick(100_000);
  assert.equal(d.isEjected('a:1'), true, 'no ticks after cancel');
  assert.equal(clock.pending, 0);
});

test('bad specs are refused', () => {
  const clock = new VirtualClock();
  for (const bad of [
    { intervalMs: 0 },
    { baseEjectionTimeMs: 0 },
    { maxEjectionTimeMs: 10, baseEjectionTimeMs: 20 },
    { maxEjectionPercent: 101 },
    { maxEjectionPercent: -1 },
    { consecutive5xx: -1 },
    { consecutive5xx: 1.5 },
  ]) {
    assert.throws(() => new OutlierDetector({ ...DEFAULTS, ...bad }, { clock }), RangeError, JSON.stringify(bad));
  }
});
