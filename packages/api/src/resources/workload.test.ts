import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeParseResource } from './registry.js';
import { WorkloadSchema } from './workload.js';

const workload = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Workload',
  metadata: { name: 'reviews-1', labels: { version: 'v2', zone: 'eu-1' } },
  spec: { service: 'reviews', address: '10.0.0.7', port: 15001, ...spec },
  ...extra,
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

test('a declared workload gets its defaults: outside the mesh, weight 1', () => {
  const w = WorkloadSchema.parse(workload({}));
  assert.deepEqual(w.spec, { service: 'reviews', address: '10.0.0.7', port: 15001, inMesh: false, weight: 1 });
  assert.deepEqual(w.metadata.labels, { version: 'v2', zone: 'eu-1' });
});

test('addresses may be IPv4, IPv6 or DNS names', () => {
  for (const address of ['127.0.0.1', '::1', 'fd00::7', 'db.internal.example.com']) {
    assert.equal(WorkloadSchema.parse(workload({ address })).spec.address, address);
  }
  assertProblem(workload({ address: 'not an address' }), 'spec.address', /IPv4 or IPv6 address or a DNS name/);
});

test('the status the control plane writes is accepted and typed', () => {
  const w = WorkloadSchema.parse(
    workload(
      { inMesh: true },
      {
        status: {
          health: 'HEALTHY',
          identity: 'spiffe://cluster.local/ns/default/sa/reviews',
          proxy: { id: 'p-1', connected: true, connectedAt: '2025-01-01T00:00:00Z' },
          config: { acknowledgedVersion: '42/17' },
          conditions: [{ type: 'Ready', status: 'True', reason: 'Connected', lastTransitionTime: '2025-01-01T00:00:00Z' }],
        },
      },
    ),
  );
  assert.equal(w.status?.health, 'HEALTHY');
  assert.equal(w.status?.config?.acknowledgedVersion, '42/17');
  assert.equal(WorkloadSchema.parse(workload({}, { status: {} })).status?.health, 'UNKNOWN');
});

test('typical mistakes are named', () => {
  assertProblem(workload({ port: 0 }), 'spec.port', /port from 1 to 65535/);
  assertProblem(workload({ service: undefined }), 'spec.service', /expected string/);
  assertProblem(workload({ labels: { version: 'v2' } }), 'spec.labels', /Unrecognized key/);
  assertProblem(workload({}, { status: { health: 'OK' } }), 'status.health', /"HEALTHY"/);
  assertProblem(workload({}, { metadata: { name: 'w', labels: { version: 'not valid!' } } }), 'metadata.labels.version', /label value/);
});
