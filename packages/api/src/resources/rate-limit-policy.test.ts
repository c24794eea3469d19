import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitPolicySchema } from './rate-limit-policy.js';
import { safeParseResource } from './registry.js';

const policy = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'RateLimitPolicy',
  metadata: { name: 'p' },
  spec: { targetRef: { kind: 'Service', name: 'reviews' }, limits: [{ tokens: 10 }], ...spec },
});

const problems = (doc: unknown): string[] => {
  const r = safeParseResource(doc);
  assert.ok(!r.success, 'expected the document to be invalid');
  return r.error.issues.map((i) => `${i.field}: ${i.message}`);
};
const assertProblem = (doc: unknown, field: string, message: RegExp): void => {
  const all = problems(doc);
  assert.ok(all.some((p) => p.startsWith(`${field}: `) && message.test(p)), `expected "${field}: ${message}" among:\n  ${all.join('\n  ')}`);
};

test('a local limit gets its defaults: per second, overall', () => {
  const p = RateLimitPolicySchema.parse(policy({}));
  assert.equal(p.spec.mode, 'LOCAL');
  assert.deepEqual(p.spec.limits, [{ tokens: 10, interval: '1s', key: { type: 'OVERALL' } }]);
});

test('a global limit on a route rule, keyed by header and identity', () => {
  const p = RateLimitPolicySchema.parse(
    policy({
      targetRef: { kind: 'HTTPRoute', name: 'reviews', sectionName: 'split' },
      mode: 'GLOBAL',
      redis: { address: 'redis.internal:6379' },
      limits: [
        { tokens: 100, interval: '1m', burst: 150, key: { type: 'HEADER', name: 'x-api-key' } },
        { tokens: 5, key: { type: 'SOURCE_IDENTITY' } },
      ],
    }),
  );
  assert.deepEqual(p.spec.targetRef, { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'reviews', sectionName: 'split' });
  assert.deepEqual(p.spec.redis, { address: 'redis.internal:6379', failureMode: 'OPEN', timeout: '100ms' });
  assert.equal(RateLimitPolicySchema.parse(policy({ targetRef: { kind: 'GRPCRoute', name: 'g' } })).spec.targetRef.kind, 'GRPCRoute');
});

test('typical mistakes are named', () => {
  assertProblem(policy({ mode: 'GLOBAL' }), 'spec.redis', /must be set when mode is GLOBAL/);
  assertProblem(policy({ redis: { address: '127.0.0.1:6379' } }), 'spec.redis', /only used with mode: GLOBAL/);
  assertProblem(policy({ mode: 'GLOBAL', redis: { address: '127.0.0.1' } }), 'spec.redis.address', /HOST:PORT/);
  assertProblem(policy({ mode: 'GLOBAL', redis: { address: 'r:6379', failureMode: 'open' } }), 'spec.redis.failureMode', /"OPEN"\|"CLOSED"/);
  assertProblem(policy({ mode: 'local' }), 'spec.mode', /"LOCAL"\|"GLOBAL"/);
  assertProblem(policy({ limits: [] }), 'spec.limits', /at least one limit/);
  assertProblem(policy({ limits: [{ tokens: 0 }] }), 'spec.limits[0].tokens', /at least 1/);
  assertProblem(policy({ limits: [{ tokens: 10, burst: 5 }] }), 'spec.limits[0].burst', /at least tokens/);
  assertProblem(policy({ limits: [{ tokens: 10, interval: '1 s' }] }), 'spec.limits[0].interval', /must be a duration/);
  assertProblem(policy({ limits: [{ tokens: 10, key: { type: 'HEADER' } }] }), 'spec.limits[0].key.name', /expected string/);
  assertProblem(policy({ limits: [{ tokens: 10, key: { type: 'IP' } }] }), 'spec.limits[0].key.type', /OVERALL/);
  assertProblem(policy({ targetRef: { kind: 'Workload', name: 'x' } }), 'spec.targetRef.kind', /Service.*HTTPRoute.*GRPCRoute/);
  assertProblem(policy({ targetRef: { group: '', kind: 'HTTPRoute', name: 'x' } }), 'spec.targetRef.group', /gateway\.networking\.k8s\.io/);
});
