import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxySnapshotSchema } from './snapshot.js';

const base = { apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r', endpointsVersion: 'e' } as const;

test('a snapshot without inbound policies allows everything (existing snapshots keep working)', () => {
  assert.deepEqual(ProxySnapshotSchema.parse(base).inbound, { authorization: { defaultAction: 'ALLOW', policies: [] } });
  assert.deepEqual(ProxySnapshotSchema.parse({ ...base, inbound: {} }).inbound.authorization.policies, []);
});

test('the compiled form: one kind per value, lower-case header names, known actions', () => {
  const policy = (rules: unknown[]) => ({ ...base, inbound: { authorization: { policies: [{ name: 'shop/p', action: 'ALLOW', rules }] } } });
  assert.ok(ProxySnapshotSchema.safeParse(policy([{ to: [{ paths: [{ prefix: '/api/' }, { any: true }] }] }])).success);
  assert.ok(!ProxySnapshotSchema.safeParse(policy([{ to: [{ paths: [{ prefix: '/a', suffix: '.json' }] }] }])).success, 'two kinds in one value');
  assert.ok(!ProxySnapshotSchema.safeParse(policy([{ to: [{ paths: ['/api/*'] }] }])).success, 'the wildcard syntax is the resource form, not the snapshot form');
  assert.ok(!ProxySnapshotSchema.safeParse(policy([{ when: [{ header: 'X-Tenant', values: [{ exact: 'a' }] }] }])).success);
  assert.ok(!ProxySnapshotSchema.safeParse(policy([{ from: [{ services: [{ name: { exact: 'a' } }] }] }])).success, 'a service needs its namespace');
  const audit = { ...base, inbound: { authorization: { policies: [{ name: 'shop/p', action: 'AUDIT', rules: [] }] } } };
  assert.ok(!ProxySnapshotSchema.safeParse(audit).success);
});
