import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from './token-bucket.js';
import { VirtualClock } from './virtual-clock.js';

const bucket = (capacity: number, tokensPerFill: number, fillIntervalMs: number, clock = new VirtualClock(1_000_000)) => ({
  clock,
  b: new TokenBucket({ capacity, tokensPerFill, fillIntervalMs }, clock),
});

test('a new bucket is full: a burst of `capacity` passes, the next take is refused', () => {
  const { b } = bucket(5, 1, 1000);
  for (let i = 4; i >= 0; i--) assert.deepEqual(b.tryTake(), { allowed: true, remaining: i, resetMs: 1000, retryAfterMs: 0 });
  const refused = b.tryTake();
  assert.equal(refused.allowed, false);
  assert.equal(refused.remaining, 0);
  assert.equal(refused.retryAfterMs, 1000);
});

test('tokens arrive in whole fills at fixed times from creation, not a millisecond early', () => {
  const { b, clock } = bucket(10, 3, 1000);
  assert.equal(b.tryTake(10).allowed, true);
  clock.tick(999);
  assert.equal(b.available(), 0);
  assert.equal(b.tryTake().resetMs, 1, 'the next fill is 1 ms away');
  clock.tick(1);
  assert.equal(b.available(), 3, 'one fill of 3 at exactly the interval');
  clock.tick(1500);
  assert.equal(b.available(), 6, 'a second fill at 2000 ms; the third is not due until 3000 ms');
  assert.equal(b.tryTake().resetMs, 500, 'fills stay on the creation grid, whenever the bucket is read');
});

test('a bucket never holds more than its capacity, however long it idles', () => {
  const { b, clock } = bucket(4, 3, 100);
  b.tryTake(4);
  clock.tick(100);
  assert.equal(b.available(), 3);
  clock.tick(100);
  assert.equal(b.available(), 4, '3 + 3 capped at 4');
  clock.tick(1e15);
  assert.equal(b.available(), 4, 'an idle time whose fills would overflow 2^53 still caps at capacity');
  assert.equal(b.tryTake().resetMs, 100, 'not full after a take: the next fill is one interval away at most');
});

test('a full bucket reports no reset time (waiting gains nothing), and more than it holds is never allowed', () => {
  const { b } = bucket(3, 1, 1000);
  // A take of more than there is leaves the bucket as it was, and reads its state.
  const r = b.tryTake(4);
  assert.equal(r.allowed, false);
  assert.equal(r.resetMs, 0);
  assert.equal(r.retryAfterMs, Infinity);
  assert.equal(b.available(), 3);
  assert.equal(b.tryTake().resetMs, 1000, 'one token short of full: the next fill is an interval away');
});

test('a take of n is all or nothing, and says when n tokens will be there', () => {
  const { b, clock } = bucket(10, 2, 1000);
  b.tryTake(9);
  clock.tick(250);
  const r = b.tryTake(6);
  assert.equal(r.allowed, false);
  assert.equal(r.remaining, 1, 'nothing taken by a refused take');
  // 1 token now; 5 more need 3 fills of 2: at 1000, 2000 and 3000 ms, i.e. 2750 ms from now.
  assert.equal(r.retryAfterMs, 2750);
  clock.tick(2749);
  assert.equal(b.tryTake(6).allowed, false);
  clock.tick(1);
  assert.equal(b.tryTake(6).allowed, true);
});

test('bad specs and takes are refused', () => {
  const clock = new VirtualClock();
  for (const spec of [
    { capacity: 0, tokensPerFill: 1, fillIntervalMs: 1 },
    { capacity: 1, tokensPerFill: 0, fillIntervalMs: 1 },
    { capacity: 1, tokensPerFill: 1, fillIntervalMs: 0 },
    { capacity: 1.5, tokensPerFill: 1, fillIntervalMs: 1 },
    { capacity: Number.NaN, tokensPerFill: 1, fillIntervalMs: 1 },
    { capacity: Infinity, tokensPerFill: 1, fillIntervalMs: 1 },
  ]) {
    assert.throws(() => new TokenBucket(spec, clock), RangeError, JSON.stringify(spec));
  }
  const b = new TokenBucket({ capacity: 2, tokensPerFill: 1, fillIntervalMs: 10 }, clock);
  for (const n of [0, -1, 1.5, Number.NaN]) assert.throws(() => b.tryTake(n), RangeError, String(n));
  assert.equal(b.available(), 2, 'a bad take takes nothing');
});

test('a clock that goes back adds no tokens', () => {
  const clock = { t: 10_000, now() { return this.t; } };
  const b = new TokenBucket({ capacity: 2, tokensPerFill: 1, fillIntervalMs: 100 }, clock);
  b.tryTake(2);
  clock.t = 5_000;
  assert.equal(b.available(), 0);
  clock.t = 10_100;
  assert.equal(b.available(), 1);
});
