import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HealthCheckSchema, LocalitySchema, OutlierDetectionSchema } from './resources/destination-policy.js';
import { parseDuration } from './resources/duration.js';
import { MeshDestinationDefaultsSchema } from './resources/mesh.js';
import { RateLimitSchema } from './resources/rate-limit-policy.js';
import {
  DestinationPolicySnapshotSchema,
  RateLimitSnapshotSchema,
  RetryPolicySnapshotSchema,
  SnapshotHealthCheckSchema,
  SnapshotLoadBalancerSchema,
  SnapshotLocalitySchema,
  SnapshotOutlierDetectionSchema,
} from './snapshot-policies.js';

/** The resource form of a section, durations turned into the snapshot's milliseconds. */
const msFields = (o: Record<string, unknown>, durations: Record<string, string>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...o };
  for (const [from, to] of Object.entries(durations)) {
    const v = out[from];
    delete out[from];
    if (typeof v === 'string') out[to] = parseDuration(v);
  }
  return out;
};

test('the snapshot defaults are the Mesh defaults of the resources, in milliseconds', () => {
  const mesh = MeshDestinationDefaultsSchema.parse({});
  const snap = DestinationPolicySnapshotSchema.parse({});
  assert.deepEqual(snap.loadBalancer, mesh.loadBalancer);
  assert.deepEqual(snap.connectionPool, mesh.connectionPool);
  assert.deepEqual(snap.retryBudget, msFields(mesh.retryBudget, { ttl: 'ttlMs' }));
  assert.equal(snap.outlierDetection, undefined);
  assert.equal(snap.healthCheck, undefined);
  assert.equal(snap.locality, undefined);

  const od = OutlierDetectionSchema.parse({ successRate: {} });
  assert.deepEqual(
    SnapshotOutlierDetectionSchema.parse({ successRate: {} }),
    msFields(od, { interval: 'intervalMs', baseEjectionTime: 'baseEjectionTimeMs', maxEjectionTime: 'maxEjectionTimeMs' }),
  );
  for (const type of ['HTTP', 'TCP'] as const) {
    assert.deepEqual(SnapshotHealthCheckSchema.parse({ type }), msFields(HealthCheckSchema.parse({ type }), { interval: 'intervalMs', timeout: 'timeoutMs' }));
  }
  assert.deepEqual(SnapshotLocalitySchema.parse({}), LocalitySchema.parse({}));
  const decay = SnapshotLoadBalancerSchema.parse({ type: 'PEAK_EWMA' });
  assert.deepEqual(decay, { type: 'PEAK_EWMA', decayMs: 10_000 });
  assert.deepEqual(SnapshotLoadBalancerSchema.parse({ type: 'MAGLEV', hashKey: { type: 'SOURCE_IP' } }), { type: 'MAGLEV', hashKey: { type: 'SOURCE_IP' }, tableSize: 65_537 });
  const rl = RateLimitSchema.parse({ tokens: 5 });
  assert.equal(RateLimitSnapshotSchema.parse({ limits: [{ name: 'x', tokens: 5, burst: 5 }] }).limits[0]?.intervalMs, parseDuration(rl.interval));
});

test('the retry policy defaults: HTTPRoute semantics, Envoy backoff, Linkerd replay bound', () => {
  assert.deepEqual(RetryPolicySnapshotSchema.parse({}), {
    attempts: 2,
    backoff: { baseMs: 25 },
    retryOn: ['connect-failure', 'refused-stream'],
    statusCodes: [],
    grpcStatuses: [],
    maxReplayBodyBytes: 65_536,
  });
});

test('bad policy sections are refused', () => {
  const bad: [string, () => unknown][] = [
    ['maglev table not prime', () => SnapshotLoadBalancerSchema.parse({ type: 'MAGLEV', hashKey: { type: 'SOURCE_IP' }, tableSize: 65_536 })],
    ['ring min above max', () => SnapshotLoadBalancerSchema.parse({ type: 'RING_HASH', hashKey: { type: 'SOURCE_IP' }, minimumRingSize: 10, maximumRingSize: 5 })],
    ['upper-case header', () => SnapshotLoadBalancerSchema.parse({ type: 'RING_HASH', hashKey: { type: 'HEADER', name: 'X-User' } })],
    ['unknown algorithm', () => SnapshotLoadBalancerSchema.parse({ type: 'RANDOM' })],
    ['max ejection shorter than base', () => SnapshotOutlierDetectionSchema.parse({ baseEjectionTimeMs: 10, maxEjectionTimeMs: 5 })],
    ['ejection percent over 100', () => SnapshotOutlierDetectionSchema.parse({ maxEjectionPercent: 101 })],
    ['timeout over interval', () => SnapshotHealthCheckSchema.parse({ type: 'TCP', intervalMs: 1000, timeoutMs: 2000 })],
    ['fractional threshold', () => SnapshotHealthCheckSchema.parse({ type: 'TCP', healthyThreshold: 1.5 })],
    ['ratio over 1', () => DestinationPolicySnapshotSchema.parse({ retryBudget: { ratio: 1.5 } })],
    ['zero max requests', () => DestinationPolicySnapshotSchema.parse({ connectionPool: { maxRequests: 0 } })],
    ['unknown field', () => DestinationPolicySnapshotSchema.parse({ circuitBreaker: {} })],
    ['unknown retry condition', () => RetryPolicySnapshotSchema.parse({ retryOn: ['4xx'] })],
    ['OK is not a gRPC failure', () => RetryPolicySnapshotSchema.parse({ grpcStatuses: ['OK'] })],
    ['2xx retry code', () => RetryPolicySnapshotSchema.parse({ statusCodes: [200] })],
    ['max backoff below base', () => RetryPolicySnapshotSchema.parse({ backoff: { baseMs: 100, maxMs: 50 } })],
    ['burst below tokens', () => RateLimitSnapshotSchema.parse({ limits: [{ name: 'x', tokens: 5, burst: 4 }] })],
    ['quote in limit name', () => RateLimitSnapshotSchema.parse({ limits: [{ name: 'a"b', tokens: 5, burst: 5 }] })],
    ['no limits', () => RateLimitSnapshotSchema.parse({ limits: [] })],
  ];
  for (const [why, parse] of bad) assert.throws(parse, why);
});
