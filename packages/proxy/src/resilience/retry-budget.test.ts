import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from './retry-budget.js';
import { VirtualClock } from './virtual-clock.js';

const withdrawAll = (b: RetryBudget, max = 100_000): number => {
  let n = 0;
  while (n < max && b.tryWithdraw()) n++;
  return n;
};

test('without traffic, the floor alone allows minRetriesPerSecond × ttl retries', () => {
  const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1, ttlMs: 10_000 }, new VirtualClock());
  assert.equal(withdrawAll(b), 10);
});

test('the ratio adds its share of the requests of the window, exactly', () => {
  const b = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, ttlMs: 10_000 }, new VirtualClock());
  for (let i = 0; i < 100; i++) b.deposit();
  assert.equal(b.remaining, 20);
  assert.equal(withdrawAll(b), 20);
  b.deposit();
  b.deposit();
  b.deposit();
  b.deposit();
  assert.equal(b.tryWithdraw(), false, '104 requests allow 20.8: not a 21st retry');
  b.deposit();
  assert.equal(b.tryWithdraw(), true, '105 requests allow 21');
});

test('ratio and floor add up; a ratio that is not exact in binary does not lose a retry', () => {
  const b = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 2, ttlMs: 5_000 }, new VirtualClock());
  for (let i = 0; i < 30; i++) b.deposit();
  // 0.1 × 30 = 3.0000000000000004 in binary; 3 + 2 × 5 = 13 retries.
  assert.equal(withdrawAll(b), 13);
});

test('ratio 0 and no floor allow no retries', () => {
  const b = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, ttlMs: 10_000 }, new VirtualClock());
  for (let i = 0; i < 1000; i++) b.deposit();
  assert.equal(b.tryWithdraw(), false);
  assert.equal(b.remaining, 0);
});

test('the window slides: requests and retries older than the ttl stop counting', () => {
  const clock = new VirtualClock();
  const b = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, ttlMs: 10_000 }, clock);
  for (let i = 0; i < 10; i++) b.deposit();
  assert.equal(withdrawAll(b), 5);
  clock.tick(5_000);
  for (let i = 0; i < 10; i++) b.deposit();
  assert.equal(withdrawAll(b), 5, '20 requests, 5 retries already: 5 more');
  clock.tick(5_000);
  // The first 10 requests and 5 retries are out of the window; 10 requests and 5 retries remain.
  assert.equal(b.remaining, 0);
  clock.tick(5_000);
  assert.equal(b.remaining, 0, 'everything has left the window');
  for (let i = 0; i < 4; i++) b.deposit();
  assert.equal(withdrawAll(b), 2);
});

test('a retry budget holds the Mesh defaults, and refuses bad ones', () => {
  const clock = new VirtualClock();
  const b = new RetryBudget(DEFAULT_RETRY_BUDGET, clock);
  assert.equal(b.remaining, 100, '10 per second over 10 s');
  for (const spec of [
    { ratio: -0.1, minRetriesPerSecond: 0, ttlMs: 1000 },
    { ratio: 1.1, minRetriesPerSecond: 0, ttlMs: 1000 },
    { ratio: Number.NaN, minRetriesPerSecond: 0, ttlMs: 1000 },
    { ratio: 0.2, minRetriesPerSecond: -1, ttlMs: 1000 },
    { ratio: 0.2, minRetriesPerSecond: 1, ttlMs: 0 },
  ]) {
    assert.throws(() => new RetryBudget(spec, clock), RangeError, JSON.stringify(spec));
  }
});
