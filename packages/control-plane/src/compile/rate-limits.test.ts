import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HelloSchema, ProxySnapshotSchema, parseResource, type AnyResource, type InboundRateLimit } from '@weft/api';
import { buildMeshContext } from './mesh-context.js';
import { compileProxySnapshot } from './proxy-snapshot.js';

const service = (name: string): AnyResource => parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name, namespace: 'shop' } });

const limit = (name: string, targetRef: object): AnyResource =>
  parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'RateLimitPolicy', metadata: { name, namespace: 'shop' }, spec: { targetRef, limits: [{ tokens: 1 }] } });

const own = (svc: string) => HelloSchema.parse({ type: 'hello', workload: `${svc}-1`, service: svc, namespace: 'shop', address: '10.0.0.1', port: 4143, appProtocol: 'http' });

/** `policy -> matches` of the inbound rate limits of `svc`'s proxies. */
const limitsOf = (resources: AnyResource[], svc: string): Record<string, InboundRateLimit['matches']> => {
  const snapshot = compileProxySnapshot(buildMeshContext({ resources, workloads: [] }), own(svc));
  ProxySnapshotSchema.parse(snapshot);
  return Object.fromEntries((snapshot.inbound.rateLimits ?? []).map((p) => [p.policy, p.matches]));
};

const services = [service('reviews'), service('reviews-v2'), service('ratings')];
const split = parseResource({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'split', namespace: 'shop' },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: 'reviews' }],
    rules: [
      { name: 'beta', matches: [{ headers: [{ name: 'x-beta', value: '1' }] }], backendRefs: [{ name: 'reviews-v2', port: 80 }] },
      { name: 'bad', matches: [{ path: { type: 'RegularExpression', value: '/(a)\\1' } }], backendRefs: [{ name: 'ratings', port: 80 }] },
      { backendRefs: [{ name: 'reviews', port: 80, weight: 9 }, { name: 'reviews-v2', port: 80, weight: 1 }] },
    ],
  },
});

test('a RateLimitPolicy on a route is enforced by the Services its rules send to, with the matches of those rules', () => {
  const resources = [...services, split, limit('whole', { kind: 'HTTPRoute', name: 'split' }), limit('beta-only', { kind: 'HTTPRoute', name: 'split', sectionName: 'beta' })];
  const all = { path: { type: 'PathPrefix', value: '/' } };
  const beta = { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-beta', value: '1' }] };
  assert.deepEqual(limitsOf(resources, 'reviews-v2'), { 'shop/beta-only': [beta], 'shop/whole': [beta, all] });
  assert.deepEqual(limitsOf(resources, 'reviews'), { 'shop/whole': [all] }, 'only the rule that sends to reviews');
  assert.deepEqual(limitsOf(resources, 'ratings'), {}, 'a rule left out of the snapshot adds nothing');
});

test('policies on the Service and on its routes all apply, in name order; the Service-level ones to every request', () => {
  const resources = [...services, split, limit('b-route', { kind: 'HTTPRoute', name: 'split', sectionName: 'beta' }), limit('a-svc', { kind: 'Service', name: 'reviews-v2' }), limit('c-svc', { kind: 'Service', name: 'reviews-v2' })];
  const got = limitsOf(resources, 'reviews-v2');
  assert.deepEqual(Object.keys(got), ['shop/a-svc', 'shop/b-route', 'shop/c-svc']);
  assert.equal(got['shop/a-svc'], undefined);
});

test('a route attached to no Service takes no requests: its rate limits are enforced nowhere', () => {
  const orphan = parseResource({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'orphan', namespace: 'shop' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'gone' }], rules: [{ backendRefs: [{ name: 'reviews', port: 80 }] }] },
  });
  assert.deepEqual(limitsOf([...services, orphan, limit('p', { kind: 'HTTPRoute', name: 'orphan' })], 'reviews'), {});
});

test('a GRPCRoute carries its gRPC matches', () => {
  const grpc = parseResource({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'calls', namespace: 'shop' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'ratings' }], rules: [{ matches: [{ method: { service: 'shop.Ratings', method: 'Rate' } }], backendRefs: [{ name: 'ratings', port: 80 }] }] },
  });
  assert.deepEqual(limitsOf([...services, grpc, limit('p', { kind: 'GRPCRoute', name: 'calls' })], 'ratings'), {
    'shop/p': [{ path: { type: 'PathPrefix', value: '/' }, grpc: { type: 'Exact', service: 'shop.Ratings', method: 'Rate' } }],
  });
});
