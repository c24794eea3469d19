import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeParseResource } from './registry.js';
import { ServiceSchema } from './service.js';

const service = (spec?: Record<string, unknown>, name = 'reviews'): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  metadata: { name, namespace: 'shop' },
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

test('a Service without spec gets one http port 80', () => {
  const s = ServiceSchema.parse(service());
  assert.deepEqual(s.spec, { ports: [{ name: 'http', port: 80, appProtocol: 'http' }] });
  assert.deepEqual(s.metadata, { name: 'reviews', namespace: 'shop', labels: {}, annotations: {} });
});

test('ports default their protocol to http', () => {
  const s = ServiceSchema.parse(service({ ports: [{ port: 9080 }], serviceAccount: 'reviews-sa' }));
  assert.deepEqual(s.spec.ports, [{ port: 9080, appProtocol: 'http' }]);
  assert.equal(s.spec.serviceAccount, 'reviews-sa');
});

test('a subset Service has no ports of its own', () => {
  const s = ServiceSchema.parse(service({ subsetOf: { service: 'reviews', labels: { version: 'v2' } } }, 'reviews-v2'));
  assert.equal(s.spec.ports, undefined);
  assert.deepEqual(s.spec.subsetOf, { service: 'reviews', labels: { version: 'v2' } });
  assertProblem(service({ subsetOf: { service: 'reviews', labels: { version: 'v2' } }, ports: [{ port: 1 }] }, 'reviews-v2'), 'spec.ports', /parent's ports/);
  assertProblem(service({ subsetOf: { service: 'reviews', labels: {} } }, 'reviews-v2'), 'spec.subsetOf.labels', /at least one label/);
  assertProblem(service({ subsetOf: { service: 'reviews', labels: { version: 'v2' } } }), 'spec.subsetOf.service', /subset of itself/);
});

test('typical mistakes are named', () => {
  assertProblem(service({ ports: [{ port: 80, appProtocol: 'https' }] }), 'spec.ports[0].appProtocol', /"http"\|"http2"\|"grpc"\|"tcp"/);
  assertProblem(service({ ports: [{ port: 70000 }] }), 'spec.ports[0].port', /port from 1 to 65535/);
  assertProblem(service({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), 'spec.ports[1].port', /duplicate port 80/);
  assertProblem(service({ ports: [{ port: 80 }, { name: 'b', port: 81 }] }), 'spec.ports[0].name', /several ports/);
  assertProblem(service({ ports: [] }), 'spec.ports', /at least one port/);
  assertProblem(service({ port: 80 }), 'spec.port', /Unrecognized key/);
  assertProblem(service({}, 'Reviews'), 'metadata.name', /RFC 1123 label/);
  assertProblem(service({}, 'reviews.shop'), 'metadata.name', /RFC 1123 label/);
});
