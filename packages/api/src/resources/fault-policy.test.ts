import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultPolicySchema } from './fault-policy.js';
import { safeParseResource } from './registry.js';

const policy = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'FaultPolicy',
  metadata: { name: 'drill' },
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

test('percentages default to 100; matches use the HTTPRoute syntax and defaults', () => {
  const p = FaultPolicySchema.parse(policy({ delay: { fixedDelay: '2s' }, abort: { grpcStatus: 'UNAVAILABLE', percentage: 0.5 }, matches: [{ method: 'POST' }] }));
  assert.deepEqual(p.spec.delay, { fixedDelay: '2s', percentage: 100 });
  assert.deepEqual(p.spec.abort, { grpcStatus: 'UNAVAILABLE', percentage: 0.5 });
  assert.deepEqual(p.spec.matches, [{ path: { type: 'PathPrefix', value: '/' }, method: 'POST' }]);
});

test('typical mistakes are named', () => {
  assertProblem(policy({}), 'spec.delay', /set delay, abort or both/);
  assertProblem(policy({ abort: { percentage: 10 } }), 'spec.abort.httpStatus', /exactly one of httpStatus or grpcStatus/);
  assertProblem(policy({ abort: { httpStatus: 503, grpcStatus: 'INTERNAL' } }), 'spec.abort.httpStatus', /exactly one/);
  assertProblem(policy({ abort: { httpStatus: 99 } }), 'spec.abort.httpStatus', /200 to 599/);
  assertProblem(policy({ abort: { grpcStatus: 'Unavailable' } }), 'spec.abort.grpcStatus', /"UNAVAILABLE"/);
  assertProblem(policy({ abort: { grpcStatus: 'OK' } }), 'spec.abort.grpcStatus', /"CANCELLED"/);
  assertProblem(policy({ delay: { fixedDelay: '2 seconds' } }), 'spec.delay.fixedDelay', /must be a duration/);
  assertProblem(policy({ delay: { fixedDelay: '2s', percentage: 101 } }), 'spec.delay.percentage', /percentage from 0 to 100/);
  assertProblem(policy({ delay: { fixedDelay: '2s' }, matches: [{ path: { value: 'x' } }] }), 'spec.matches[0].path.value', /must start with "\/"/);
  assertProblem(policy({ delay: { fixedDelay: '2s' }, match: {} }), 'spec.match', /Unrecognized key/);
});
