import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DestinationPolicySchema,
  HelloSchema,
  MeshSpecSchema,
  ProxySnapshotSchema,
  parseResource,
  type AnyResource,
  type DestinationPolicy,
  type DestinationPolicyInput,
  type MeshSpec,
} from '@weft/api';
import { compileSections, destinationIndex } from './destination-policies.js';
import { effectiveDestinationPolicy } from './destination-winner.js';
import { buildMeshContext } from './mesh-context.js';
import { indexPolicies } from './policy-index.js';
import { compileProxySnapshot } from './proxy-snapshot.js';

const policy = (name: string, spec: Omit<DestinationPolicyInput['spec'], 'targetRef'>, target = 'reviews', created?: string): DestinationPolicy =>
  DestinationPolicySchema.parse({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'DestinationPolicy',
    metadata: { name, namespace: 'shop', ...(created === undefined ? {} : { creationTimestamp: created }) },
    spec: { targetRef: { kind: 'Service', name: target }, ...spec },
  });

const mesh = (defaults: unknown = {}): MeshSpec => MeshSpecSchema.parse({ defaults: { destinationPolicy: defaults } });

test('a policy without sections is the Mesh defaults, which are the documented ones', () => {
  const d = mesh().defaults.destinationPolicy;
  assert.deepEqual(compileSections({}, d), {
    loadBalancer: { type: 'LEAST_REQUEST', choiceCount: 2 },
    connectionPool: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    retryBudget: { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 },
  });
});

test('a section the policy sets replaces the Mesh section whole, field defaults included', () => {
  const d = mesh({ outlierDetection: { consecutive5xx: 9, interval: '1s', maxEjectionPercent: 50 }, connectionPool: { maxRequests: 7 } }).defaults.destinationPolicy;
  const p = policy('p', { outlierDetection: { consecutiveGatewayErrors: 2 } });
  const c = compileSections(p.spec, d);
  assert.deepEqual(c.outlierDetection, {
    consecutive5xx: 5,
    consecutiveGatewayErrors: 2,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionTimeMs: 300_000,
    maxEjectionPercent: 10,
  });
  assert.equal(c.connectionPool.maxRequests, 7, 'left out: the Mesh section');
});

test('durations become milliseconds and hash header names lower case', () => {
  const d = mesh().defaults.destinationPolicy;
  const ewma = compileSections(policy('p', { loadBalancer: { type: 'PEAK_EWMA', decay: '1m30s' } }).spec, d);
  assert.deepEqual(ewma.loadBalancer, { type: 'PEAK_EWMA', decayMs: 90_000 });
  const cookie = compileSections(policy('p', { loadBalancer: { type: 'MAGLEV', hashKey: { type: 'COOKIE', name: 'Session', ttl: '1h', path: '/' } } }).spec, d);
  assert.deepEqual(cookie.loadBalancer, { type: 'MAGLEV', hashKey: { type: 'COOKIE', name: 'Session', ttlMs: 3_600_000, path: '/' }, tableSize: 65_537 });
  const header = compileSections(policy('p', { loadBalancer: { type: 'RING_HASH', hashKey: { type: 'HEADER', name: 'X-User' } } }).spec, d);
  assert.deepEqual(header.loadBalancer, { type: 'RING_HASH', hashKey: { type: 'HEADER', name: 'x-user' }, minimumRingSize: 1024, maximumRingSize: 8_388_608 });
  const tcp = compileSections(policy('p', { healthCheck: { type: 'TCP', interval: '2s', timeout: '250ms' } }).spec, d);
  assert.deepEqual(tcp.healthCheck, { type: 'TCP', intervalMs: 2000, timeoutMs: 250, healthyThreshold: 2, unhealthyThreshold: 3 });
  const budget = compileSections(policy('p', { retryBudget: { ratio: 0, minRetriesPerSecond: 0, ttl: '5s' } }).spec, d);
  assert.deepEqual(budget.retryBudget, { ratio: 0, minRetriesPerSecond: 0, ttlMs: 5000 });
});

test('every compiled policy is a valid snapshot section', () => {
  const d = mesh({ locality: { failover: [{ from: 'a', to: ['b'] }] } }).defaults.destinationPolicy;
  const p = policy('p', {
    loadBalancer: { type: 'RING_HASH', hashKey: { type: 'SOURCE_IP' }, minimumRingSize: 8, maximumRingSize: 64 },
    outlierDetection: { consecutive5xx: 1, successRate: { minimumHosts: 2 } },
    healthCheck: { type: 'HTTP', expectedStatuses: [200, 204] },
  });
  const destinations = { 'reviews.shop': compileSections(p.spec, d) };
  const snapshot = ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r', endpointsVersion: 'e', destinations });
  assert.deepEqual(snapshot.destinations, destinations, 'parsing adds nothing: every default is spelled out');
});

test('of several policies on one Service the oldest is in effect, then the first by name; the others are not Accepted', () => {
  const late = policy('a-late', { loadBalancer: { type: 'ROUND_ROBIN' } }, 'reviews', '2026-02-01T00:00:00Z');
  const early = policy('z-early', { loadBalancer: { type: 'LEAST_REQUEST', choiceCount: 3 } }, 'reviews', '2026-01-01T00:00:00Z');
  assert.equal(effectiveDestinationPolicy([late, early]), early);
  const undated = [policy('b', {}), policy('a', {})];
  assert.equal(effectiveDestinationPolicy(undated)?.metadata.name, 'a', 'without timestamps: by name');
  assert.equal(effectiveDestinationPolicy([]), undefined);

  const { byTarget, statuses } = indexPolicies([late, early], new Map(), []);
  const accepted = (name: string) => statuses.find((s) => s.name === name)?.conditions.find((c) => c.type === 'Accepted');
  assert.equal(accepted('z-early')?.status, 'True');
  assert.equal(accepted('a-late')?.status, 'False');
  assert.equal(accepted('a-late')?.reason, 'Conflicted');
  assert.match(accepted('a-late')?.message ?? '', /shop\/z-early/);
  const lookup = destinationIndex(byTarget, mesh());
  assert.deepEqual(lookup('reviews.shop').config.loadBalancer, { type: 'LEAST_REQUEST', choiceCount: 3 });
});

test('the index compiles each Service once; Services without a policy share the Mesh defaults', () => {
  const { byTarget } = indexPolicies([policy('p', { connectionPool: { maxRequests: 5 } })], new Map(), []);
  const lookup = destinationIndex(byTarget, mesh());
  const reviews = lookup('reviews.shop');
  assert.equal(lookup('reviews.shop'), reviews, 'cached');
  assert.ok(Object.isFrozen(reviews.config));
  assert.equal(reviews.config.connectionPool.maxRequests, 5);
  const ratings = lookup('ratings.shop');
  assert.equal(lookup('reviews.other'), ratings, 'a policy applies in its own namespace only');
  assert.notEqual(ratings.hash, reviews.hash);
  assert.equal(ratings.config.connectionPool.maxRequests, 1024);
});

test('a DestinationPolicy change moves routesVersion of the callers of its Service only, and never endpointsVersion', () => {
  const service = (name: string): AnyResource => parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name, namespace: 'shop' } });
  const record = (svc: string) => ({ name: `${svc}-1`, namespace: 'shop', service: svc, address: '10.0.0.1', port: 4143, labels: {}, healthy: true, source: 'proxy' as const });
  const caller = (name: string, upstream: string) =>
    HelloSchema.parse({ type: 'hello', workload: `${name}-1`, service: name, namespace: 'shop', address: '10.0.1.1', port: 4143, appProtocol: 'http', upstreams: [upstream] });
  const resources = [service('reviews'), service('ratings'), service('a'), service('b')];
  const workloads = [record('reviews'), record('ratings')];
  const a = caller('a', 'reviews');
  const b = caller('b', 'ratings');
  const before = buildMeshContext({ resources, workloads });
  const after = buildMeshContext({ resources: [...resources, policy('p', { connectionPool: { maxRequests: 3 } })], workloads });
  const [a0, a1, b0, b1] = [compileProxySnapshot(before, a), compileProxySnapshot(after, a), compileProxySnapshot(before, b), compileProxySnapshot(after, b)];
  assert.notEqual(a1.routesVersion, a0.routesVersion, 'a calls reviews');
  assert.equal(a1.endpointsVersion, a0.endpointsVersion);
  assert.equal(a1.destinations['reviews.shop']?.connectionPool.maxRequests, 3);
  assert.equal(a0.destinations['reviews.shop']?.connectionPool.maxRequests, 1024);
  assert.deepEqual(b1, b0, 'b calls ratings only: same snapshot, same versions');
  assert.deepEqual(Object.keys(b1.destinations), ['ratings.shop'], 'one entry per service whose endpoints the snapshot holds');
  ProxySnapshotSchema.parse(a1);
});
