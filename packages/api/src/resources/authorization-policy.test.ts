import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthorizationPolicySchema } from './authorization-policy.js';
import { safeParseResource } from './registry.js';

const policy = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'p', namespace: 'shop' },
  spec,
});
const rule = (r: Record<string, unknown>): Record<string, unknown> => policy({ targetRef: { kind: 'Service', name: 'reviews' }, rules: [r] });

const problems = (doc: unknown): string[] => {
  const r = safeParseResource(doc);
  assert.ok(!r.success, 'expected the document to be invalid');
  return r.error.issues.map((i) => `${i.field}: ${i.message}`);
};
const assertProblem = (doc: unknown, field: string, message: RegExp): void => {
  const all = problems(doc);
  assert.ok(all.some((p) => p.startsWith(`${field}: `) && message.test(p)), `expected "${field}: ${message}" among:\n  ${all.join('\n  ')}`);
};

test('defaults: ALLOW, no rules; targetRef may be omitted (the whole namespace)', () => {
  const p = AuthorizationPolicySchema.parse(policy({}));
  assert.deepEqual(p.spec, { action: 'ALLOW', rules: [] });
});

test('a full rule with every wildcard form parses unchanged', () => {
  const r = {
    from: [
      { principals: ['spiffe://cluster.local/ns/shop/sa/frontend', 'spiffe://cluster.local/ns/ops/*', '*/sa/admin'], notNamespaces: ['test-*'] },
      { services: ['frontend', 'batch.jobs', 'canary-*'], namespaces: ['*'] },
    ],
    to: [{ methods: ['GET', 'HEAD'], paths: ['/reviews/*', '/healthz', '*.json', '*'], notPaths: ['/reviews/admin*'] }],
    when: [{ header: 'x-tenant', values: ['acme', 'beta-*'] }, { header: 'x-debug', notValues: ['*'] }],
  };
  const p = AuthorizationPolicySchema.parse(rule(r));
  assert.deepEqual(p.spec.rules, [r]);
  assert.equal(AuthorizationPolicySchema.parse(policy({ action: 'DENY', rules: [{}] })).spec.action, 'DENY');
});

test('paths must start with "/" unless they are suffixes', () => {
  assertProblem(rule({ to: [{ paths: ['api/*'] }] }), 'spec.rules[0].to[0].paths[0]', /must start with "\/"/);
  assertProblem(rule({ to: [{ notPaths: ['health'] }] }), 'spec.rules[0].to[0].notPaths[0]', /must start with "\/"/);
});

test('a "*" in the middle, or at both ends, is refused with the syntax', () => {
  assertProblem(rule({ to: [{ paths: ['/api/*/items'] }] }), 'spec.rules[0].to[0].paths[0]', /may only start or end a value.*"prefix\*"/);
  assertProblem(rule({ from: [{ namespaces: ['*shop*'] }] }), 'spec.rules[0].from[0].namespaces[0]', /prefix or a suffix, not both/);
});

test('typical mistakes are named', () => {
  assertProblem(policy({ action: 'AUDIT' }), 'spec.action', /"ALLOW"\|"DENY"/);
  assertProblem(rule({ from: [{ principals: ['frontend'] }] }), 'spec.rules[0].from[0].principals[0]', /SPIFFE ID/);
  assertProblem(rule({ from: [{ principals: ['cluster.local/ns/*'] }] }), 'spec.rules[0].from[0].principals[0]', /start with "spiffe:\/\/"/);
  assertProblem(rule({ from: [{ namespaces: ['Shop'] }] }), 'spec.rules[0].from[0].namespaces[0]', /namespace name/);
  assertProblem(rule({ to: [{ methods: ['get'] }] }), 'spec.rules[0].to[0].methods[0]', /upper case/);
  assertProblem(rule({ from: [{}] }), 'spec.rules[0].from[0]', /at least one field/);
  assertProblem(rule({ from: [] }), 'spec.rules[0].from', />=1|at least/i);
  assertProblem(rule({ to: [{ paths: [] }] }), 'spec.rules[0].to[0].paths', /at least one path/);
  assertProblem(rule({ when: [{ header: 'x-a' }] }), 'spec.rules[0].when[0].values', /values or notValues/);
  assertProblem(rule({ when: [{ key: 'request.headers[x-a]', values: ['1'] }] }), 'spec.rules[0].when[0].key', /Unrecognized key/);
  assertProblem(rule({ from: [{ source: { principals: ['*'] } }] }), 'spec.rules[0].from[0].source', /Unrecognized key/);
});
