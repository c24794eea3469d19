import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rateLimitKeyOf, MAX_KEY_LENGTH, type RateLimitSubject } from './rate-limit-key.js';
import { RateLimiter, type RateLimitSpec } from './rate-limiter.js';
import { VirtualClock } from './virtual-clock.js';

const subject = (headers: Record<string, string>, sourceIdentity = 'spiffe://cluster.local/ns/default/sa/web'): RateLimitSubject => ({
  header: (name) => headers[name],
  sourceIdentity,
});

const overall: RateLimitSpec = { name: 'overall', tokens: 10, intervalMs: 1000, burst: 10, key: { type: 'OVERALL' } };
const perUser: RateLimitSpec = { name: 'per-user', tokens: 2, intervalMs: 1000, burst: 2, key: { type: 'HEADER', name: 'x-user' } };

test('keys: one bucket overall, per identity, per header value; no header shares the empty key', () => {
  const s = subject({ 'x-user': 'alice' });
  assert.equal(rateLimitKeyOf({ type: 'OVERALL' }, s), '');
  assert.equal(rateLimitKeyOf({ type: 'SOURCE_IDENTITY' }, s), 'spiffe://cluster.local/ns/default/sa/web');
  assert.equal(rateLimitKeyOf({ type: 'HEADER', name: 'x-user' }, s), 'alice');
  assert.equal(rateLimitKeyOf({ type: 'HEADER', name: 'x-user' }, subject({})), '');
  const long = 'x'.repeat(10_000);
  assert.equal(rateLimitKeyOf({ type: 'HEADER', name: 'x-user' }, subject({ 'x-user': long })).length, MAX_KEY_LENGTH);
});

test('a request refused by one limit takes nothing from the others', () => {
  const limiter = new RateLimiter([overall, perUser], { clock: new VirtualClock() });
  assert.equal(limiter.check(subject({ 'x-user': 'alice' })).allowed, true);
  assert.equal(limiter.check(subject({ 'x-user': 'alice' })).allowed, true);
  for (let i = 0; i < 5; i++) {
    const d = limiter.check(subject({ 'x-user': 'alice' }));
    assert.equal(d.allowed, false);
    assert.equal(d.refusedBy, 'per-user');
  }
  // Overall spent only the two admitted requests: bob can make 8 more before it is empty.
  let admitted = 0;
  for (let i = 0; i < 20; i++) if (limiter.check(subject({ 'x-user': `bob-${i}` })).allowed) admitted++;
  assert.equal(admitted, 8);
  const d = limiter.check(subject({ 'x-user': 'carol' }));
  assert.equal(d.refusedBy, 'overall');
  assert.deepEqual(
    d.limits.map((l) => [l.name, l.remaining]),
    [
      ['overall', 0],
      ['per-user', 2],
    ],
  );
});

test('a refusal says when to come back: the next fill of the refusing bucket', () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter([perUser], { clock });
  limiter.check(subject({ 'x-user': 'a' }));
  limiter.check(subject({ 'x-user': 'a' }));
  clock.tick(300);
  const d = limiter.check(subject({ 'x-user': 'a' }));
  assert.equal(d.allowed, false);
  assert.equal(d.retryAfterMs, 700);
  clock.tick(700);
  assert.equal(limiter.check(subject({ 'x-user': 'a' })).allowed, true);
});

test('keys are bounded per limit, and sweep frees refilled ones', () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter([perUser, { ...overall, key: { type: 'SOURCE_IDENTITY' } }], { clock, maxKeys: 50 });
  for (let i = 0; i < 1000; i++) limiter.check(subject({ 'x-user': `u${i}` }, `10.0.0.${i % 256}`));
  assert.equal(limiter.size, 100);
  clock.tick(1000);
  assert.equal(limiter.sweep(), 100);
  assert.equal(limiter.size, 0);
});

test('a limiter needs at least one limit', () => {
  assert.throws(() => new RateLimiter([], { clock: new VirtualClock() }), RangeError);
});
