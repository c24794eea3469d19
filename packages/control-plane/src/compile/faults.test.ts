import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HelloSchema, ProxySnapshotSchema, parseResource, type AnyResource, type ProxySnapshot, type RouteRule } from '@weft/api';
import { buildMeshContext } from './mesh-context.js';
import { compileProxySnapshot } from './proxy-snapshot.js';

const service = (name: string): AnyResource => parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name, namespace: 'shop' } });

const route = (name: string, parents: string[], rules: unknown[]): AnyResource =>
  parseResource({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'shop' },
    spec: { parentRefs: parents.map((p) => ({ group: '', kind: 'Service', name: p })), rules },
  });

const fault = (name: string, targetRef: object, spec: object = { abort: { httpStatus: 503 } }): AnyResource =>
  parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'FaultPolicy', metadata: { name, namespace: 'shop' }, spec: { targetRef, ...spec } });

const caller = HelloSchema.parse({ type: 'hello', workload: 'front-1', service: 'front', namespace: 'shop', address: '10.0.1.1', port: 4143, appProtocol: 'http', upstreams: ['reviews', 'ratings'] });

const snapshotOf = (resources: AnyResource[]): ProxySnapshot => {
  const snapshot = compileProxySnapshot(buildMeshContext({ resources, workloads: [] }), caller);
  ProxySnapshotSchema.parse(snapshot);
  return snapshot;
};

/** `rule name -> policy` for the rules of `svc` in `snapshot`. */
const faultsOf = (snapshot: ProxySnapshot, svc: string): Record<string, string | undefined> =>
  Object.fromEntries((snapshot.services.find((s) => s.name === svc)?.routes ?? []).map((r: RouteRule) => [r.name ?? '?', r.fault?.policy]));

const backend = (name: string) => [{ name, port: 80 }];
const services = [service('reviews'), service('ratings'), service('front')];
const reviewsRoute = route('reviews-route', ['reviews'], [
  { name: 'api', matches: [{ path: { value: '/api' } }], backendRefs: backend('reviews') },
  { name: 'admin', matches: [{ path: { value: '/admin' } }], backendRefs: backend('reviews') },
  { backendRefs: backend('reviews') },
]);

test('the most specific FaultPolicy of a rule wins: its rule, then its route, then its Service', () => {
  const snapshot = snapshotOf([
    ...services,
    reviewsRoute,
    route('reviews-extra', ['reviews'], [{ matches: [{ path: { value: '/extra' } }], backendRefs: backend('reviews') }]),
    fault('a-service', { kind: 'Service', name: 'reviews' }),
    fault('z-rule', { kind: 'HTTPRoute', name: 'reviews-route', sectionName: 'api' }),
    fault('y-other-rule-later', { kind: 'HTTPRoute', name: 'reviews-route', sectionName: 'api' }),
    fault('m-route', { kind: 'HTTPRoute', name: 'reviews-route' }),
  ]);
  assert.deepEqual(faultsOf(snapshot, 'reviews'), {
    'httproute:shop/reviews-route#admin': 'shop/m-route',
    'httproute:shop/reviews-route#api': 'shop/y-other-rule-later',
    'httproute:shop/reviews-extra#0': 'shop/a-service',
    'httproute:shop/reviews-route#2': 'shop/m-route',
  });
  assert.deepEqual(faultsOf(snapshot, 'ratings'), {}, 'other Services are untouched (no rules of their own, no catch-all)');
});

test('a FaultPolicy on a route applies to its rules on every Service it is attached to, and only there', () => {
  const snapshot = snapshotOf([
    ...services,
    route('both', ['reviews', 'ratings'], [{ matches: [{ path: { value: '/both' } }], backendRefs: backend('reviews') }]),
    route('ratings-only', ['ratings'], [{ backendRefs: backend('ratings') }]),
    fault('on-both', { kind: 'HTTPRoute', name: 'both' }),
  ]);
  assert.deepEqual(faultsOf(snapshot, 'reviews'), { 'httproute:shop/both#0': 'shop/on-both' });
  assert.deepEqual(faultsOf(snapshot, 'ratings'), { 'httproute:shop/both#0': 'shop/on-both', 'httproute:shop/ratings-only#0': undefined });
});

test('matches are compiled into the fault in the route-match form, on the catch-all rule of a Service without routes too', () => {
  const snapshot = snapshotOf([
    ...services,
    fault('drill', { kind: 'Service', name: 'ratings' }, {
      matches: [{ path: { type: 'Exact', value: '/x' }, method: 'GET', headers: [{ name: 'X-Drill', value: 'on' }] }, { queryParams: [{ name: 'q', value: '1' }] }],
      abort: { httpStatus: 503 },
    }),
  ]);
  const rules = snapshot.services.find((s) => s.name === 'ratings')?.routes ?? [];
  assert.equal(rules.length, 1);
  assert.deepEqual(rules[0]?.fault, {
    policy: 'shop/drill',
    matches: [
      { path: { type: 'Exact', value: '/x' }, method: 'GET', headers: [{ type: 'Exact', name: 'X-Drill', value: 'on' }] },
      { path: { type: 'PathPrefix', value: '/' }, queryParams: [{ type: 'Exact', name: 'q', value: '1' }] },
    ],
    abort: { httpStatus: 503, percentage: 100 },
  });
});

test('a FaultPolicy whose matches proxies cannot run is not applied, and its status says why', () => {
  const bad = fault('bad', { kind: 'HTTPRoute', name: 'reviews-route' }, { matches: [{ headers: [{ name: 'x', type: 'RegularExpression', value: '(?=a)' }] }], abort: { httpStatus: 503 } });
  const resources = [...services, reviewsRoute, fault('svc', { kind: 'Service', name: 'reviews' }), bad];
  const ctx = buildMeshContext({ resources, workloads: [] });
  assert.deepEqual(Object.values(faultsOf(compileProxySnapshot(ctx, caller), 'reviews')), ['shop/svc', 'shop/svc', 'shop/svc'], 'the Service-level policy stays in effect');
  const accepted = ctx.statuses.find((s) => s.kind === 'FaultPolicy' && s.name === 'bad')?.conditions.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.reason, 'UnsupportedValue');
  assert.match(accepted?.message ?? '', /^not applied: spec\.matches\[0\]\.headers\[0\]\.value: regular expression /);
});

test('a route-level fault moves the versions of the callers of the route only', () => {
  const other = HelloSchema.parse({ ...caller, workload: 'other-1', service: 'other', upstreams: ['ratings'] });
  const before = buildMeshContext({ resources: [...services, reviewsRoute], workloads: [] });
  const after = buildMeshContext({ resources: [...services, reviewsRoute, fault('r', { kind: 'HTTPRoute', name: 'reviews-route' })], workloads: [] });
  assert.notEqual(compileProxySnapshot(after, caller).routesVersion, compileProxySnapshot(before, caller).routesVersion);
  assert.deepEqual(compileProxySnapshot(after, other), compileProxySnapshot(before, other));
});
