import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthorizationPolicySchema, MeshSpecSchema, type AuthorizationPolicy, type AuthorizationPolicyInput } from '@weft/api';
import { authorizationIndex, compileInboundAuthorization, toServiceMatch, toStringMatch } from './authz.js';
import { indexPolicies } from './policy-index.js';

const policy = (name: string, namespace: string, spec: AuthorizationPolicyInput['spec']): AuthorizationPolicy =>
  AuthorizationPolicySchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });

test('wildcard values split into exact, prefix, suffix and any', () => {
  assert.deepEqual(toStringMatch('/health'), { exact: '/health' });
  assert.deepEqual(toStringMatch('/api/*'), { prefix: '/api/' });
  assert.deepEqual(toStringMatch('*.json'), { suffix: '.json' });
  assert.deepEqual(toStringMatch('*'), { any: true });
});

test('services resolve against the policy namespace unless they name one', () => {
  const cases: [string, unknown][] = [
    ['reviews', { name: { exact: 'reviews' }, namespace: { exact: 'shop' } }],
    ['reviews.other', { name: { exact: 'reviews' }, namespace: { exact: 'other' } }],
    ['canary-*', { name: { prefix: 'canary-' }, namespace: { exact: 'shop' } }],
    ['*-v2', { name: { suffix: '-v2' }, namespace: { exact: 'shop' } }],
    ['*.jobs', { name: { any: true }, namespace: { exact: 'jobs' } }],
    ['*-v2.jobs', { name: { suffix: '-v2' }, namespace: { exact: 'jobs' } }],
    ['reviews.*', { name: { exact: 'reviews' }, namespace: { any: true } }],
    ['reviews.team-*', { name: { exact: 'reviews' }, namespace: { prefix: 'team-' } }],
    ['*', { name: { any: true }, namespace: { any: true } }],
  ];
  for (const [value, expected] of cases) assert.deepEqual(toServiceMatch(value, 'shop'), expected, value);
});

test('only the policies of the Service (targetRef) and of its namespace (no targetRef) apply; DENY first, then by name', () => {
  const policies = [
    policy('b-allow', 'shop', { targetRef: { kind: 'Service', name: 'reviews' }, rules: [{}] }),
    policy('a-allow-all', 'shop', { rules: [{ from: [{ namespaces: ['shop'] }] }] }),
    policy('z-deny', 'shop', { targetRef: { kind: 'Service', name: 'reviews' }, action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] }),
    policy('other-service', 'shop', { targetRef: { kind: 'Service', name: 'ratings' }, rules: [{}] }),
    policy('other-namespace', 'staging', { rules: [{}] }),
  ];
  const c = compileInboundAuthorization({ service: 'reviews', namespace: 'shop', policies, defaultAction: 'DENY' });
  assert.equal(c.defaultAction, 'DENY');
  assert.deepEqual(c.policies.map((p) => `${p.action} ${p.name}`), ['DENY shop/z-deny', 'ALLOW shop/a-allow-all', 'ALLOW shop/b-allow']);
  assert.deepEqual(c.policies[0]?.rules, [{ to: [{ paths: [{ prefix: '/admin' }] }] }]);
});

test('header names become lower case; unset fields stay out of the snapshot', () => {
  const p = policy('p', 'shop', { rules: [{ when: [{ header: 'X-Tenant', values: ['acme'] }], from: [{ principals: ['*'] }] }] });
  const c = compileInboundAuthorization({ service: 'reviews', namespace: 'shop', policies: [p], defaultAction: 'ALLOW' });
  assert.deepEqual(c.policies[0]?.rules, [{ from: [{ principals: [{ any: true }] }], when: [{ header: 'x-tenant', values: [{ exact: 'acme' }] }] }]);
});

test('the index compiles each Service once and hashes by content', () => {
  const policies = [policy('a', 'shop', { targetRef: { kind: 'Service', name: 'reviews' }, rules: [{}] })];
  const { byTarget } = indexPolicies(policies, new Map(), []);
  const lookup = authorizationIndex(byTarget, MeshSpecSchema.parse({}));
  const reviews = lookup('reviews', 'shop');
  assert.equal(lookup('reviews', 'shop'), reviews, 'cached');
  assert.equal(reviews.config.policies.length, 1);
  assert.ok(Object.isFrozen(reviews.config));
  const ratings = lookup('ratings', 'shop');
  assert.equal(ratings.config.policies.length, 0);
  assert.notEqual(ratings.hash, reviews.hash);
  assert.equal(lookup('ratings', 'other').hash, ratings.hash, 'equal content, equal hash');
});
