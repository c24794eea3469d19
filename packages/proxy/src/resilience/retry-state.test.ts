import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, DEFAULT_CONNECTION_POOL } from './circuit-breaker.js';
import { RetryBudget } from './retry-budget.js';
import { compileRetryPolicy } from './retry-policy.js';
import { RetryState } from './retry-state.js';
import { VirtualClock } from './virtual-clock.js';

const policy = compileRetryPolicy({ attempts: 3, backoff: { baseMs: 10 }, retryOn: ['5xx'], statusCodes: [], grpcStatuses: [] });
const failed = { outcome: { kind: 'response' as const, status: 503 }, bodyReplayable: true, responseCommitted: false };
const ok = { ...failed, outcome: { kind: 'response' as const, status: 200 } };

test('retries are counted per request up to the attempts of the policy', () => {
  const s = new RetryState(policy, { random: () => 0 });
  assert.equal(s.afterAttempt(failed).retry, true);
  assert.equal(s.afterAttempt(failed).retry, true);
  assert.equal(s.afterAttempt(failed).retry, true);
  assert.deepEqual(s.afterAttempt(failed), { retry: false, reason: 'attempts-exhausted' });
  assert.equal(s.retries, 3);
});

test('a retry holds a concurrent-retry slot until its attempt ends', () => {
  const breaker = new CircuitBreaker({ ...DEFAULT_CONNECTION_POOL, maxRetries: 1 });
  const a = new RetryState(policy, { breaker, random: () => 0 });
  const b = new RetryState(policy, { breaker, random: () => 0 });
  assert.equal(a.afterAttempt(failed).retry, true);
  assert.deepEqual(b.afterAttempt(failed), { retry: false, reason: 'retry-overflow' });
  assert.equal(breaker.inUse('retries'), 1);
  // a's retry ends in success: its slot is freed, and b's next failure may retry.
  assert.equal(a.afterAttempt(ok).retry, false);
  assert.equal(breaker.inUse('retries'), 0);
  assert.equal(b.afterAttempt(failed).retry, true);
  b.finish();
  b.finish();
  assert.equal(breaker.inUse('retries'), 0);
});

test('a retry refused by the budget holds no slot; the budget is charged only for granted retries', () => {
  const clock = new VirtualClock();
  const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 2000 }, clock);
  const breaker = new CircuitBreaker();
  const states = Array.from({ length: 3 }, () => new RetryState(policy, { budget, breaker, random: () => 0 }));
  const decisions = states.map((s) => s.afterAttempt(failed));
  assert.deepEqual(
    decisions.map((d) => (d.retry ? 'retry' : d.reason)),
    ['retry', 'retry', 'budget-exhausted'],
  );
  assert.equal(breaker.inUse('retries'), 2);
  for (const s of states) s.finish();
  assert.equal(breaker.inUse('retries'), 0);
  // Non-retriable outcomes never touch the budget.
  const clean = new RetryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1000 }, clock);
  const s = new RetryState(policy, { budget: clean, random: () => 0 });
  s.afterAttempt(ok);
  s.afterAttempt({ ...failed, bodyReplayable: false });
  assert.equal(clean.remaining, 1);
});
