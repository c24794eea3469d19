import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './clock.js';
import { VirtualClock } from './virtual-clock.js';

test('timers run in time order, at their own time, and only once due', () => {
  const clock = new VirtualClock(100);
  const ran: string[] = [];
  clock.schedule(50, () => ran.push(`b@${clock.now()}`));
  clock.schedule(10, () => ran.push(`a@${clock.now()}`));
  clock.schedule(10, () => {
    ran.push(`a2@${clock.now()}`);
    clock.schedule(5, () => ran.push(`nested@${clock.now()}`));
  });
  const cancelled = clock.schedule(20, () => ran.push('cancelled'));
  cancelled.cancel();
  clock.tick(49);
  assert.deepEqual(ran, ['a@110', 'a2@110', 'nested@115']);
  assert.equal(clock.now(), 149);
  clock.tick(1);
  assert.deepEqual(ran.slice(3), ['b@150']);
  assert.equal(clock.pending, 0);
});

test('advance lets promise continuations run between timers', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  clock.schedule(10, () => {
    void Promise.resolve().then(() => order.push(`continuation@${clock.now()}`));
  });
  clock.schedule(20, () => order.push(`timer@${clock.now()}`));
  await clock.advance(30);
  assert.deepEqual(order, ['continuation@10', 'timer@20']);
});

test('a seeded random source repeats its sequence and stays in [0, 1)', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(
    Array.from({ length: 10_000 }, () => b()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(seededRandom(43)(), xs[0]);
});
