import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxySnapshotSchema } from './snapshot.js';

const base = { apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r', endpointsVersion: 'e' } as const;

test('a snapshot without destinations stays valid and means none', () => {
  assert.deepEqual(ProxySnapshotSchema.parse(base).destinations, {});
});

test('destinations are keyed by service and filled with the documented defaults', () => {
  const s = ProxySnapshotSchema.parse({ ...base, destinations: { 'reviews.default': { loadBalancer: { type: 'ROUND_ROBIN' } } } });
  assert.deepEqual(s.destinations['reviews.default'], {
    loadBalancer: { type: 'ROUND_ROBIN' },
    connectionPool: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
    retryBudget: { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 },
  });
});

test('a bad destination policy refuses the snapshot, naming the field', () => {
  const r = ProxySnapshotSchema.safeParse({ ...base, destinations: { 'reviews.default': { connectionPool: { maxRequests: 0 } } } });
  assert.ok(!r.success);
  assert.deepEqual(r.error.issues[0]?.path, ['destinations', 'reviews.default', 'connectionPool', 'maxRequests']);
  const unknown = ProxySnapshotSchema.safeParse({ ...base, destinations: { 'reviews.default': { circuitBreaker: {} } } });
  assert.ok(!unknown.success, 'unknown sections are refused, not ignored');
});
