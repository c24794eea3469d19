import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quotaWindow, rateLimitHeaders, sfString, tightestLimit } from './rate-limit-headers.js';
import { RateLimiter } from './rate-limiter.js';
import { VirtualClock } from './virtual-clock.js';

test('headers follow the IETF draft syntax, with the de facto x-ratelimit-* of the tightest limit', () => {
  const clock = new VirtualClock();
  const limiter = new RateLimiter(
    [
      { name: 'overall', tokens: 100, intervalMs: 60_000, burst: 100, key: { type: 'OVERALL' } },
      { name: 'per-user', tokens: 5, intervalMs: 1000, burst: 5, key: { type: 'HEADER', name: 'x-user' } },
    ],
    { clock },
  );
  const s = { header: (n: string) => (n === 'x-user' ? 'alice' : undefined), sourceIdentity: '' };
  limiter.check(s);
  clock.tick(250);
  const d = limiter.check(s);
  assert.deepEqual(rateLimitHeaders(d), [
    ['ratelimit-policy', '"overall";q=100;w=60, "per-user";q=5;w=1'],
    // overall: its first fill lands 60 s after creation; 59.75 s rounds up to 60.
    ['ratelimit', '"overall";r=98;t=60, "per-user";r=3;t=1'],
    ['x-ratelimit-limit', '5'],
    ['x-ratelimit-remaining', '3'],
    ['x-ratelimit-reset', '1'],
  ]);
  for (let i = 0; i < 3; i++) limiter.check(s);
  const refused = limiter.check(s);
  assert.equal(refused.allowed, false);
  const headers = new Map(rateLimitHeaders(refused));
  assert.equal(headers.get('retry-after'), '1');
  assert.equal(headers.get('x-ratelimit-remaining'), '0');
});

test('windows are whole seconds: sub-second and odd intervals are scaled', () => {
  assert.deepEqual(quotaWindow({ tokens: 5, intervalMs: 100 }), { q: 50, w: 1 });
  assert.deepEqual(quotaWindow({ tokens: 5, intervalMs: 1500 }), { q: 6, w: 2 });
  assert.deepEqual(quotaWindow({ tokens: 7, intervalMs: 3_600_000 }), { q: 7, w: 3600 });
  assert.deepEqual(quotaWindow({ tokens: 1, intervalMs: 1 }), { q: 1000, w: 1 });
});

test('policy names are valid Structured Field strings whatever they hold', () => {
  assert.equal(sfString('per-user'), '"per-user"');
  assert.equal(sfString('say "hi"\\'), '"say \\"hi\\"\\\\"');
  assert.equal(sfString('zone-ü\n\u0000x'), '"zone-x"');
});

test('the tightest limit is the one with fewest left, then the latest reset', () => {
  const l = (name: string, remaining: number, resetMs: number) => ({ name, tokens: 10, intervalMs: 1000, remaining, resetMs });
  assert.equal(tightestLimit([l('a', 5, 100), l('b', 2, 100), l('c', 3, 100)])?.name, 'b');
  assert.equal(tightestLimit([l('a', 2, 100), l('b', 2, 900)])?.name, 'b');
  assert.equal(tightestLimit([]), undefined);
  assert.deepEqual(rateLimitHeaders({ allowed: true, limits: [], retryAfterMs: 0 }), []);
});
