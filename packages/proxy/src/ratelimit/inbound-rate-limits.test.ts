import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InboundRateLimitSchema, type InboundRateLimit } from '@weft/api/data-plane';
import { readH2Header, readRawHeader } from '../authz/header-readers.js';
import { ProxyError } from '../errors/proxy-error.js';
import { errorResponse } from '../errors/rescue.js';
import { VirtualClock } from '../resilience/virtual-clock.js';
import { InboundRateLimits, type SharedBuckets } from './inbound-rate-limits.js';

const policy = (name: string, tokens: number, intervalMs: number, extra: Partial<InboundRateLimit> = {}): InboundRateLimit =>
  InboundRateLimitSchema.parse({ policy: `default/${name}`, limits: [{ name: 'main', tokens, burst: tokens, intervalMs }], ...extra });

const peer = { principal: 'spiffe://td/ns/default/sa/client', namespace: 'default', serviceAccount: 'client' };

const checkSync = (limits: InboundRateLimits, policies: InboundRateLimit[], headers: Record<string, string> = {}): ProxyError | undefined => {
  const v = limits.check(policies, peer, '10.0.0.1', 'GET', '/', headers, readH2Header);
  assert.ok(!(v instanceof Promise), 'local policies answer at once');
  return v;
};

test('admits up to the bucket, then refuses with 429 RL and the headers of the engine, until the next fill', async () => {
  const clock = new VirtualClock(1000);
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock });
  const policies = [policy('p', 2, 1000)];
  assert.equal(checkSync(limits, policies), undefined);
  assert.equal(checkSync(limits, policies), undefined);
  const refused = checkSync(limits, policies);
  assert.ok(refused instanceof ProxyError);
  assert.equal(refused.code, 'WEFT_ERR_PROXY_RATE_LIMITED');
  const r = errorResponse(refused.code, refused.message, refused.hop, refused.extras);
  assert.equal(r.status, 429);
  assert.equal(r.flag, 'RL');
  assert.equal(r.grpcStatus, 8, 'RESOURCE_EXHAUSTED, not the UNAVAILABLE of the HTTP mapping');
  assert.deepEqual(Object.fromEntries(r.headers), {
    'ratelimit-policy': '"main";q=2;w=1',
    ratelimit: '"main";r=0;t=1',
    'x-ratelimit-limit': '2',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '1',
    'retry-after': '1',
  });
  await clock.advance(999);
  assert.ok(checkSync(limits, policies) instanceof ProxyError, 'one ms before the fill');
  await clock.advance(1);
  assert.equal(checkSync(limits, policies), undefined, 'the fill landed');
});

test('buckets survive a new config that keeps the policy, and start afresh when it changes', () => {
  const clock = new VirtualClock();
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock });
  assert.equal(checkSync(limits, [policy('p', 1, 60_000)]), undefined);
  // A new config object with the same policy: same bucket, still empty.
  assert.ok(checkSync(limits, [policy('p', 1, 60_000)]) instanceof ProxyError);
  // The policy changed: a new, full bucket.
  assert.equal(checkSync(limits, [policy('p', 2, 60_000)]), undefined);
});

test('no policies, or an empty list, admit everything without state', () => {
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock: new VirtualClock() });
  for (let i = 0; i < 100; i++) assert.equal(checkSync(limits, []), undefined);
  assert.equal(limits.check(undefined, undefined, '', 'GET', '/', {}, readH2Header), undefined);
  assert.equal(limits.localKeys, 0);
});

test('plaintext callers are keyed by address under SOURCE_IDENTITY', () => {
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock: new VirtualClock() });
  const policies = [InboundRateLimitSchema.parse({ policy: 'default/p', limits: [{ name: 'c', tokens: 1, burst: 1, key: { type: 'SOURCE_IDENTITY' } }] })];
  assert.equal(limits.check(policies, undefined, '10.0.0.1', 'GET', '/', {}, readH2Header), undefined);
  assert.ok(limits.check(policies, undefined, '10.0.0.1', 'GET', '/', {}, readH2Header) instanceof ProxyError);
  assert.equal(limits.check(policies, undefined, '10.0.0.2', 'GET', '/', {}, readH2Header), undefined);
  assert.equal(limits.check(policies, peer, '10.0.0.1', 'GET', '/', {}, readH2Header), undefined, 'an mTLS caller is keyed by its principal');
});

test('GLOBAL policies ask the shared store; when it cannot answer, failureMode decides', async () => {
  let answer: 'allow' | 'deny' | 'down' = 'allow';
  const shared: SharedBuckets = {
    check: (_p, _s) =>
      Promise.resolve(
        answer === 'down'
          ? undefined
          : { allowed: answer === 'allow', limits: [{ name: 'main', tokens: 1, intervalMs: 1000, remaining: 0, resetMs: 500 }], retryAfterMs: 500, ...(answer === 'deny' ? { refusedBy: 'main' } : {}) },
      ),
  };
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock: new VirtualClock(), shared });
  const open = [policy('g', 1, 1000, { redis: { address: '127.0.0.1:1', failureMode: 'OPEN', timeoutMs: 50 } })];
  const closed = [policy('g', 1, 1000, { redis: { address: '127.0.0.1:1', failureMode: 'CLOSED', timeoutMs: 50 } })];
  assert.equal(await limits.check(open, peer, '', 'GET', '/', {}, readH2Header), undefined);
  answer = 'deny';
  assert.equal((await limits.check(open, peer, '', 'GET', '/', {}, readH2Header))?.code, 'WEFT_ERR_PROXY_RATE_LIMITED');
  answer = 'down';
  assert.equal(await limits.check(open, peer, '', 'GET', '/', {}, readH2Header), undefined, 'OPEN admits');
  const e = await limits.check(closed, peer, '', 'GET', '/', {}, readH2Header);
  assert.equal(e?.code, 'WEFT_ERR_PROXY_RATE_LIMIT_UNAVAILABLE', 'CLOSED refuses');
});

test('a policy with matches counts and refuses only the requests that meet one of them', () => {
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock: new VirtualClock() });
  const writes = policy('writes', 2, 60_000, {
    matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'POST' }, { path: { type: 'Exact', value: '/bulk' }, queryParams: [{ type: 'Exact', name: 'mode', value: 'all' }] }],
  });
  const everything = policy('everything', 5, 60_000);
  const policies = [writes, everything];
  const check = (method: string, target: string, raw: string[] = []): string | undefined => {
    const v = limits.check(policies, peer, '10.0.0.1', method, target, raw, readRawHeader);
    assert.ok(!(v instanceof Promise));
    return v?.message.match(/RateLimitPolicy (\S+)/)?.[1];
  };
  assert.equal(check('POST', '/api/items'), undefined);
  assert.equal(check('GET', '/api/items'), undefined, 'another method: not counted by writes');
  assert.equal(check('POST', '/bulk?mode=all&x=1'), undefined);
  assert.equal(check('POST', '/api'), 'default/writes', 'the third matching request');
  assert.equal(check('POST', '/apix'), undefined, 'whole path segments: not a match');
  assert.equal(check('POST', '/bulk?mode=some'), undefined, 'not a match of writes');
  assert.equal(check('GET', '/other'), 'default/everything', 'everything counted every admitted request: 5, and the refused one took none of it');
});

test('header matches read the request headers; a GLOBAL policy is not asked about requests outside its matches', async () => {
  let asked = 0;
  const shared: SharedBuckets = {
    check: () => {
      asked++;
      return Promise.resolve({ allowed: false, refusedBy: 'main', limits: [{ name: 'main', tokens: 1, intervalMs: 1000, remaining: 0, resetMs: 500 }], retryAfterMs: 500 });
    },
  };
  const limits = new InboundRateLimits({ proxy: 'svc.default', clock: new VirtualClock(), shared });
  const beta = [policy('beta', 1, 1000, { redis: { address: '127.0.0.1:1', failureMode: 'OPEN', timeoutMs: 50 }, matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-beta', value: '1' }] }] })];
  assert.equal(limits.check(beta, peer, '', 'GET', '/', { 'x-beta': '2' }, readH2Header), undefined, 'answered at once, without the store');
  assert.equal(asked, 0);
  assert.equal((await limits.check(beta, peer, '', 'GET', '/', { 'x-beta': '1' }, readH2Header))?.code, 'WEFT_ERR_PROXY_RATE_LIMITED');
  assert.equal(asked, 1);
});
