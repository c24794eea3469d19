import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthChecker, type HealthCheckSpec, type HealthEvent } from './health-checker.js';
import { VirtualClock } from './virtual-clock.js';

interface Ep {
  readonly key: string;
}

const SPEC: HealthCheckSpec = { intervalMs: 1000, timeoutMs: 200, healthyThreshold: 2, unhealthyThreshold: 3 };

/**
 * A probe whose answers a test sets per endpoint: `true`/`false` answers at once, a number
 * answers true after that many virtual ms, `'hang'` never answers, `'throw'` throws.
 */
const scripted = (clock: VirtualClock) => {
  const answers = new Map<string, boolean | number | 'hang' | 'throw'>();
  const calls: { key: string; at: number; signal: AbortSignal }[] = [];
  const probe = (e: Ep, signal: AbortSignal): Promise<boolean> => {
    calls.push({ key: e.key, at: clock.now(), signal });
    const a = answers.get(e.key) ?? true;
    if (a === 'throw') throw new Error('probe failed to start');
    if (a === 'hang') return new Promise(() => {});
    if (typeof a === 'number') return new Promise((resolve) => clock.schedule(a, () => resolve(true)));
    return Promise.resolve(a);
  };
  return { answers, calls, probe };
};

const setup = (spec: HealthCheckSpec = SPEC) => {
  const clock = new VirtualClock();
  const s = scripted(clock);
  const events: HealthEvent[] = [];
  const hc = new HealthChecker<Ep>(spec, s.probe, { timer: clock, onEvent: (e) => events.push(e) });
  return { clock, hc, events, ...s };
};

test('the first check decides alone; afterwards the thresholds apply', async () => {
  const { clock, hc, answers, events } = setup();
  answers.set('a', true);
  answers.set('b', false);
  hc.setEndpoints([{ key: 'a' }, { key: 'b' }]);
  assert.equal(hc.status('a'), 'unknown');
  assert.equal(hc.isAvailable('a'), true, 'unknown endpoints get traffic');
  await clock.advance(0);
  assert.equal(hc.status('a'), 'healthy');
  assert.equal(hc.status('b'), 'unhealthy');
  assert.equal(hc.isAvailable('b'), false);

  answers.set('a', false);
  answers.set('b', true);
  await clock.advance(1000);
  await clock.advance(1000);
  assert.deepEqual([hc.status('a'), hc.status('b')], ['healthy', 'healthy'], 'two passes bring b back; two failures are not yet three');
  await clock.advance(1000);
  assert.equal(hc.status('a'), 'unhealthy');
  assert.deepEqual(
    events.map((e) => `${e.key}:${e.from}->${e.to}`),
    ['a:unknown->healthy', 'b:unknown->unhealthy', 'b:unhealthy->healthy', 'a:healthy->unhealthy'],
  );
});

test('a pass in a run of failures starts the count again', async () => {
  const { clock, hc, answers } = setup();
  hc.setEndpoints([{ key: 'a' }]);
  await clock.advance(0);
  for (const answer of [false, false, true, false, false]) {
    answers.set('a', answer);
    await clock.advance(1000);
  }
  assert.equal(hc.status('a'), 'healthy');
  answers.set('a', false);
  await clock.advance(1000);
  assert.equal(hc.status('a'), 'unhealthy');
});

test('a check that does not answer in time fails, and its probe is aborted', async () => {
  const { clock, hc, answers, calls } = setup({ ...SPEC, unhealthyThreshold: 1 });
  answers.set('a', 'hang');
  hc.setEndpoints([{ key: 'a' }]);
  await clock.advance(199);
  assert.equal(hc.status('a'), 'unknown');
  assert.equal(calls[0]?.signal.aborted, false);
  await clock.advance(1);
  assert.equal(hc.status('a'), 'unhealthy');
  assert.equal(calls[0]?.signal.aborted, true);
});

test('a probe that answers late but within the timeout passes; the next check waits an interval after it', async () => {
  const { clock, hc, answers, calls } = setup();
  answers.set('a', 150);
  hc.setEndpoints([{ key: 'a' }]);
  await clock.advance(150);
  assert.equal(hc.status('a'), 'healthy');
  await clock.advance(2150);
  assert.deepEqual(
    calls.map((c) => c.at),
    [0, 1150, 2300],
    'checks never overlap: each starts an interval after the previous ended',
  );
});

test('a probe that throws or rejects counts as a failure', async () => {
  const { clock, hc, answers } = setup();
  answers.set('a', 'throw');
  hc.setEndpoints([{ key: 'a' }]);
  await clock.advance(0);
  assert.equal(hc.status('a'), 'unhealthy');
  const rejecting = new HealthChecker<Ep>(SPEC, () => Promise.reject(new Error('refused')), { timer: clock });
  rejecting.setEndpoints([{ key: 'b' }]);
  await clock.advance(0);
  assert.equal(rejecting.status('b'), 'unhealthy');
  rejecting.stop();
});

test('endpoints that leave stop being checked; those that stay keep their status; version follows availability', async () => {
  const { clock, hc, answers, calls } = setup();
  answers.set('a', 'hang');
  answers.set('b', false);
  hc.setEndpoints([{ key: 'a' }, { key: 'b' }]);
  await clock.advance(0);
  const v = hc.version;
  assert.equal(hc.unhealthyCount, 1);
  hc.setEndpoints([{ key: 'b' }]);
  assert.equal(calls.find((c) => c.key === 'a')?.signal.aborted, true, 'the probe in flight is aborted');
  assert.equal(hc.status('a'), undefined);
  assert.equal(hc.status('b'), 'unhealthy');
  assert.equal(hc.version, v);
  hc.setEndpoints([]);
  assert.notEqual(hc.version, v, 'an unhealthy endpoint leaving changes availability');
  const before = calls.length;
  await clock.advance(10_000);
  assert.equal(calls.length, before);
  assert.equal(clock.pending, 0);
});

test('the first checks are spread over the first interval by the random source', async () => {
  const clock = new VirtualClock();
  const s = scripted(clock);
  const draws = [0, 0.25, 0.5, 0.999];
  const hc = new HealthChecker<Ep>(SPEC, s.probe, { timer: clock, random: () => draws.shift() ?? 0 });
  hc.setEndpoints(['a', 'b', 'c', 'd'].map((key) => ({ key })));
  await clock.advance(999);
  assert.deepEqual(
    s.calls.map((c) => [c.key, c.at]),
    [
      ['a', 0],
      ['b', 250],
      ['c', 500],
      ['d', 999],
    ],
  );
  hc.stop();
});

test('stop aborts probes in flight and schedules nothing more', async () => {
  const { clock, hc, answers, calls } = setup();
  answers.set('a', 'hang');
  hc.setEndpoints([{ key: 'a' }]);
  await clock.advance(0);
  hc.stop();
  assert.equal(calls[0]?.signal.aborted, true);
  hc.setEndpoints([{ key: 'b' }]);
  await clock.advance(10_000);
  assert.equal(calls.length, 1);
});

test('bad specs are refused', () => {
  const clock = new VirtualClock();
  for (const bad of [{ intervalMs: 0 }, { timeoutMs: 0 }, { healthyThreshold: 0 }, { unhealthyThreshold: 1.5 }]) {
    assert.throws(() => new HealthChecker<Ep>({ ...SPEC, ...bad }, () => Promise.resolve(true), { timer: clock }), RangeError, JSON.stringify(bad));
  }
});
