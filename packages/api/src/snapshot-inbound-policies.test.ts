import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InboundPolicySchema } from './snapshot-authz.js';
import { InboundRateLimitSchema, SnapshotRedisSchema } from './snapshot-inbound-policies.js';
import { RouteRuleSchema } from './snapshot-routes.js';

const limit = { name: 'overall', tokens: 10, burst: 10 };

test('an inbound rate limit takes the defaults of the snapshot', () => {
  const p = InboundRateLimitSchema.parse({ policy: 'default/p', limits: [limit], redis: { address: '127.0.0.1:6379' } });
  assert.deepEqual(p.limits[0], { ...limit, intervalMs: 1000, key: { type: 'OVERALL' } });
  assert.equal(p.maxKeys, 65_536);
  assert.deepEqual(p.redis, { address: '127.0.0.1:6379', failureMode: 'OPEN', timeoutMs: 100 });
});

test('bad rate limits are refused', () => {
  const bad: unknown[] = [
    { policy: '', limits: [limit] },
    { policy: 'p', limits: [] },
    { policy: 'p', limits: [{ ...limit, burst: 5 }] },
    { policy: 'p', limits: [{ ...limit, name: 'a"b' }] },
    { policy: 'p', limits: [{ ...limit, key: { type: 'HEADER', name: 'X-Upper' } }] },
    { policy: 'p', limits: [limit], extra: 1 },
  ];
  for (const b of bad) assert.equal(InboundRateLimitSchema.safeParse(b).success, false, JSON.stringify(b));
  for (const address of ['localhost', '127.0.0.1:0', '127.0.0.1:70000', 'a b:1', '']) {
    assert.equal(SnapshotRedisSchema.safeParse({ address }).success, false, address);
  }
  assert.equal(SnapshotRedisSchema.safeParse({ address: '[::1]:6379', timeoutMs: 0 }).success, false);
  assert.equal(SnapshotRedisSchema.safeParse({ address: '[::1]:6379', failureMode: 'open' }).success, false);
  assert.equal(SnapshotRedisSchema.safeParse({ address: '[::1]:6379' }).success, true);
});

test('inbound rate limits are optional, and a route rule may carry a fault', () => {
  assert.equal(InboundPolicySchema.parse({}).rateLimits, undefined);
  const rule = RouteRuleSchema.parse({ backendRefs: [{ service: 's.default' }], fault: { policy: 'default/f', delay: { fixedDelayMs: 5 } } });
  assert.deepEqual(rule.fault, { policy: 'default/f', delay: { fixedDelayMs: 5, percentage: 100 } });
  assert.equal(RouteRuleSchema.safeParse({ backendRefs: [{ service: 's.default' }], fault: { policy: 'default/f' } }).success, false);
});

test('a fault and a rate limit may apply to the requests meeting some matches only', () => {
  const matches = [{ path: { type: 'Exact', value: '/api' }, method: 'POST' }, { headers: [{ name: 'x-drill', value: 'yes' }] }];
  const rule = RouteRuleSchema.parse({ backendRefs: [{ service: 's.default' }], fault: { policy: 'default/f', matches, abort: { httpStatus: 503 } } });
  assert.deepEqual(rule.fault?.matches, [
    { path: { type: 'Exact', value: '/api' }, method: 'POST' },
    { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-drill', value: 'yes' }] },
  ]);
  const limit = InboundRateLimitSchema.parse({ policy: 'default/p', limits: [{ name: 'overall', tokens: 1, burst: 1 }], matches: [{ path: { value: '/api' } }] });
  assert.deepEqual(limit.matches, [{ path: { type: 'PathPrefix', value: '/api' } }]);
  for (const bad of [[], [{ path: { type: 'RegularExpression', value: '(a)\\1' } }], [{ method: 'get' }]]) {
    assert.equal(InboundRateLimitSchema.safeParse({ policy: 'p', limits: [{ name: 'o', tokens: 1, burst: 1 }], matches: bad }).success, false, JSON.stringify(bad));
    assert.equal(RouteRuleSchema.safeParse({ backendRefs: [{ service: 's.default' }], fault: { policy: 'f', matches: bad, abort: { httpStatus: 503 } } }).success, false, JSON.stringify(bad));
  }
});
