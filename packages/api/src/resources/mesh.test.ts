import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeshSchema } from './mesh.js';
import { safeParseResource } from './registry.js';

const mesh = (spec?: Record<string, unknown>, name = 'default'): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Mesh',
  metadata: { name },
  ...(spec === undefined ? {} : { spec }),
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

test('a Mesh without spec gets every default', () => {
  const m = MeshSchema.parse(mesh());
  assert.deepEqual(m.spec, {
    trustDomain: 'cluster.local',
    mtls: { mode: 'STRICT', certificateLifetime: '24h' },
    tracing: { samplingPercentage: 1 },
    accessLog: { enabled: true },
    authorization: { defaultAction: 'ALLOW' },
    defaults: {
      destinationPolicy: {
        loadBalancer: { type: 'LEAST_REQUEST', choiceCount: 2 },
        connectionPool: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
        retryBudget: { ratio: 0.2, minRetriesPerSecond: 10, ttl: '10s' },
      },
      route: {},
    },
  });
  assert.equal('namespace' in m.metadata, false, 'a Mesh is cluster-scoped');
});

test('partial sections keep the defaults of the fields they leave out', () => {
  const m = MeshSchema.parse(mesh({ mtls: { mode: 'PERMISSIVE' }, defaults: { destinationPolicy: { outlierDetection: { consecutive5xx: 3 } } } }));
  assert.deepEqual(m.spec.mtls, { mode: 'PERMISSIVE', certificateLifetime: '24h' });
  assert.equal(m.spec.defaults.destinationPolicy.outlierDetection?.baseEjectionTime, '30s');
  assert.equal(m.spec.defaults.destinationPolicy.loadBalancer.type, 'LEAST_REQUEST');
});

test('the certificate lifetime is a bounded duration', () => {
  assert.equal(MeshSchema.parse(mesh({ mtls: { certificateLifetime: '1h30m' } })).spec.mtls.certificateLifetime, '1h30m');
  assertProblem(mesh({ mtls: { certificateLifetime: '1d' } }), 'spec.mtls.certificateLifetime', /must be a duration/);
  assertProblem(mesh({ mtls: { certificateLifetime: '5m' } }), 'spec.mtls.certificateLifetime', /at least 10m/);
  assertProblem(mesh({ mtls: { certificateLifetime: '9000h' } }), 'spec.mtls.certificateLifetime', /at most 2160h/);
});

test('typical mistakes are named', () => {
  assertProblem(mesh({ mtls: { mode: 'strict' } }), 'spec.mtls.mode', /"STRICT"\|"PERMISSIVE"/);
  assertProblem(mesh({ tracing: { samplingPercentage: 150 } }), 'spec.tracing.samplingPercentage', /percentage from 0 to 100/);
  assertProblem(mesh({ mtls: { enabled: true } }), 'spec.mtls.enabled', /Unrecognized key/);
  assertProblem(mesh({ authorization: { defaultAction: 'REJECT' } }), 'spec.authorization.defaultAction', /"ALLOW"\|"DENY"/);
  assertProblem(mesh({ trustDomain: 'Example.org' }), 'spec.trustDomain', /SPIFFE trust domain/);
  assertProblem(mesh({}, 'prod'), 'metadata.name', /must be "default"/);
  assertProblem({ ...mesh(), metadata: { name: 'default', namespace: 'x' } }, 'metadata.namespace', /Unrecognized key/);
});
