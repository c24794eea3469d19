import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyedBuckets } from './keyed-buckets.js';
import { VirtualClock } from './virtual-clock.js';

const spec = { capacity: 2, tokensPerFill: 1, fillIntervalMs: 1000 };

test('each key has its own bucket', () => {
  const k = new KeyedBuckets(spec, { clock: new VirtualClock() });
  assert.equal(k.tryTake('a').allowed, true);
  assert.equal(k.tryTake('a').allowed, true);
  assert.equal(k.tryTake('a').allowed, false);
  assert.equal(k.tryTake('b').allowed, true, 'b is not charged for a');
  assert.equal(k.size, 2);
});

test('a flood of distinct keys cannot grow the table past maxKeys', () => {
  const k = new KeyedBuckets(spec, { clock: new VirtualClock(), maxKeys: 100 });
  for (let i = 0; i < 100_000; i++) k.tryTake(`flood-${i}`);
  assert.equal(k.size, 100);
  assert.equal(k.evicted, 100_000 - 100);
});

test('the least recently used key is the one dropped', () => {
  const clock = new VirtualClock();
  const k = new KeyedBuckets(spec, { clock, maxKeys: 3 });
  k.tryTake('a');
  k.tryTake('a');
  k.tryTake('b');
  k.tryTake('c');
  k.tryTake('a'); // refused, but a use: a is now the most recent
  k.tryTake('d'); // drops b, the least recently used
  assert.equal(k.peek('a').remaining, 0, 'a kept its empty bucket');
  assert.equal(k.size, 3);
  k.tryTake('b'); // b comes back with a fresh bucket, dropping c
  assert.equal(k.peek('b').remaining, 1);
  assert.equal(k.evicted, 2);
  assert.equal(k.evictedNotFull, 2, 'b and c had spent a token and not refilled');
});

test('a key refused again and again stays recently used, so a flood of other keys cannot reset it', () => {
  const clock = new VirtualClock();
  const k = new KeyedBuckets(spec, { clock, maxKeys: 2 });
  k.tryTake('abuser', 2);
  k.tryTake('other-0');
  for (let i = 1; i < 100; i++) {
    assert.equal(k.peek('abuser').remaining, 0);
    k.tryTake(`other-${i}`);
  }
  assert.equal(k.peek('abuser').remaining, 0, 'still held, still empty');
});

test('dropping a refilled bucket is not counted as a loss', () => {
  const clock = new VirtualClock();
  const k = new KeyedBuckets(spec, { clock, maxKeys: 1 });
  k.tryTake('a');
  clock.tick(1000);
  k.tryTake('b');
  assert.equal(k.evicted, 1);
  assert.equal(k.evictedNotFull, 0);
});

test('peek reads without taking and without keeping an unknown key', () => {
  const clock = new VirtualClock();
  const k = new KeyedBuckets(spec, { clock });
  assert.deepEqual(k.peek('nobody'), { remaining: 2, resetMs: 0 });
  assert.equal(k.size, 0);
  k.tryTake('a');
  clock.tick(400);
  assert.deepEqual(k.peek('a'), { remaining: 1, resetMs: 600 });
  assert.deepEqual(k.peek('a'), { remaining: 1, resetMs: 600 });
});

test('sweep drops refilled buckets from the idle end and stops at the first still refilling', () => {
  const clock = new VirtualClock();
  const k = new KeyedBuckets(spec, { clock });
  k.tryTake('old-1');
  k.tryTake('old-2');
  clock.tick(1000);
  k.tryTake('busy');
  k.tryTake('busy');
  k.tryTake('untouched-behind-busy');
  clock.tick(1000);
  // old-1, old-2 are full again; busy has 1 of 2; the last one is behind busy in LRU order.
  assert.equal(k.sweep(), 2);
  assert.equal(k.size, 2);
  assert.equal(k.peek('busy').remaining, 1);
  clock.tick(1000);
  assert.equal(k.sweep(), 2);
  assert.equal(k.size, 0);
});

test('maxKeys must be a whole number >= 1', () => {
  for (const maxKeys of [0, -1, 1.5, Number.NaN]) assert.throws(() => new KeyedBuckets(spec, { clock: new VirtualClock(), maxKeys }), RangeError);
});
