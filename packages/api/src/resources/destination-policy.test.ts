import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DestinationPolicySchema } from './destination-policy.js';
import { safeParseResource } from './registry.js';

const policy = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'DestinationPolicy',
  metadata: { name: 'reviews' },
  spec: { targetRef: { kind: 'Service', name: 'reviews' }, ...spec },
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

test('sections left out stay out (the Mesh defaults fill them); sections given get their field defaults', () => {
  const p = DestinationPolicySchema.parse(policy({}));
  assert.deepEqual(p.spec, { targetRef: { group: '', kind: 'Service', name: 'reviews' } });
  const q = DestinationPolicySchema.parse(
    policy({ loadBalancer: { type: 'MAGLEV', hashKey: { type: 'COOKIE', name: 'session', ttl: '1h' } }, connectionPool: {}, outlierDetection: {}, healthCheck: { type: 'TCP' }, retryBudget: {}, locality: {} }),
  );
  assert.deepEqual(q.spec.loadBalancer, { type: 'MAGLEV', hashKey: { type: 'COOKIE', name: 'session', ttl: '1h' }, tableSize: 65_537 });
  assert.deepEqual(q.spec.connectionPool, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
  assert.deepEqual(q.spec.outlierDetection, {
    consecutive5xx: 5,
    consecutiveGatewayErrors: 0,
    interval: '10s',
    baseEjectionTime: '30s',
    maxEjectionTime: '300s',
    maxEjectionPercent: 10,
  });
  assert.deepEqual(q.spec.healthCheck, { type: 'TCP', interval: '10s', timeout: '1s', healthyThreshold: 2, unhealthyThreshold: 3 });
  assert.deepEqual(q.spec.retryBudget, { ratio: 0.2, minRetriesPerSecond: 10, ttl: '10s' });
  assert.deepEqual(q.spec.locality, { enabled: true, minHealthyPercentage: 70 });
});

test('every load balancer parses', () => {
  for (const lb of [
    { type: 'ROUND_ROBIN' },
    { type: 'LEAST_REQUEST', choiceCount: 3 },
    { type: 'PEAK_EWMA', decay: '5s' },
    { type: 'RING_HASH', hashKey: { type: 'HEADER', name: 'x-user' }, minimumRingSize: 512 },
    { type: 'MAGLEV', hashKey: { type: 'SOURCE_IP' } },
  ]) {
    assert.equal(DestinationPolicySchema.parse(policy({ loadBalancer: lb })).spec.loadBalancer?.type, lb.type);
  }
});

test('typical mistakes are named', () => {
  assertProblem(policy({ loadBalancer: { type: 'RANDOM' } }), 'spec.loadBalancer.type', /ROUND_ROBIN/);
  assertProblem(policy({ loadBalancer: { type: 'RING_HASH' } }), 'spec.loadBalancer.hashKey', /expected object/);
  assertProblem(policy({ loadBalancer: { type: 'ROUND_ROBIN', hashKey: { type: 'SOURCE_IP' } } }), 'spec.loadBalancer.hashKey', /Unrecognized key/);
  assertProblem(policy({ loadBalancer: { type: 'MAGLEV', hashKey: { type: 'SOURCE_IP' }, tableSize: 1000 } }), 'spec.loadBalancer.tableSize', /prime/);
  assertProblem(policy({ loadBalancer: { type: 'RING_HASH', hashKey: { type: 'SOURCE_IP' }, minimumRingSize: 10, maximumRingSize: 5 } }), 'spec.loadBalancer.minimumRingSize', /maximumRingSize/);
  assertProblem(policy({ connectionPool: { maxConnections: 0 } }), 'spec.connectionPool.maxConnections', /at least 1/);
  assertProblem(policy({ outlierDetection: { interval: '10' } }), 'spec.outlierDetection.interval', /must be a duration/);
  assertProblem(policy({ outlierDetection: { maxEjectionPercent: 101 } }), 'spec.outlierDetection.maxEjectionPercent', /at most 100/);
  assertProblem(policy({ outlierDetection: { consecutive5xx: 0 } }), 'spec.outlierDetection.consecutive5xx', /every check is disabled/);
  assertProblem(policy({ outlierDetection: { baseEjectionTime: '1m', maxEjectionTime: '30s' } }), 'spec.outlierDetection.maxEjectionTime', /baseEjectionTime/);
  assertProblem(policy({ healthCheck: { type: 'HTTP', path: 'healthz' } }), 'spec.healthCheck.path', /must start with "\/"/);
  assertProblem(policy({ healthCheck: { type: 'HTTP', timeout: '20s' } }), 'spec.healthCheck.timeout', /must not exceed interval/);
  assertProblem(policy({ retryBudget: { ratio: 2 } }), 'spec.retryBudget.ratio', /from 0 to 1/);
  assertProblem(policy({ circuitBreaker: {} }), 'spec.circuitBreaker', /Unrecognized key/);
  assertProblem(policy({ targetRef: { kind: 'HTTPRoute', name: 'r' } }), 'spec.targetRef.kind', /"Service"/);
  assertProblem(policy({ targetRef: { group: 'weft.dev', kind: 'Service', name: 'r' } }), 'spec.targetRef.group', /core group/);
});
