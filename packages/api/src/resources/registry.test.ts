import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutServerFields } from './meta.js';
import {
  AnyResourceSchema,
  RESOURCE_KINDS,
  RESOURCE_KIND_LIST,
  ResourceValidationError,
  findResourceKind,
  parseResource,
  resourceKindOf,
  safeParseResource,
  type AnyResource,
} from './registry.js';

const svc = { apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'reviews' } };

test('the registry holds every kind of PRODUCT.md, keyed by apiVersion/kind', () => {
  assert.deepEqual(Object.keys(RESOURCE_KINDS), [
    'weft.dev/v1alpha1/Mesh',
    'weft.dev/v1alpha1/Service',
    'weft.dev/v1alpha1/Workload',
    'gateway.networking.k8s.io/v1/HTTPRoute',
    'gateway.networking.k8s.io/v1/GRPCRoute',
    'weft.dev/v1alpha1/DestinationPolicy',
    'weft.dev/v1alpha1/AuthorizationPolicy',
    'weft.dev/v1alpha1/RateLimitPolicy',
    'weft.dev/v1alpha1/FaultPolicy',
  ]);
  for (const [key, k] of Object.entries(RESOURCE_KINDS)) {
    assert.equal(key, `${k.apiVersion}/${k.kind}`);
    assert.equal(resourceKindOf(k.apiVersion, k.kind), k);
  }
  assert.equal(RESOURCE_KINDS['weft.dev/v1alpha1/Mesh'].namespaced, false);
});

test('CLI names resolve, case-insensitively, and are unambiguous', () => {
  assert.equal(findResourceKind('httproutes')?.kind, 'HTTPRoute');
  assert.equal(findResourceKind('HTTPRoute')?.kind, 'HTTPRoute');
  assert.equal(findResourceKind('hr')?.kind, 'HTTPRoute');
  assert.equal(findResourceKind('svc')?.kind, 'Service');
  assert.equal(findResourceKind('destinationpolicies')?.kind, 'DestinationPolicy');
  assert.equal(findResourceKind('authz')?.kind, 'AuthorizationPolicy');
  assert.equal(findResourceKind('pods'), undefined);
  const names = RESOURCE_KIND_LIST.flatMap((k) => [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames].filter((n, i, a) => a.indexOf(n) === i));
  assert.equal(new Set(names).size, names.length, 'no name may mean two kinds');
});

test('parseResource dispatches by apiVersion and kind, and applies defaults', () => {
  const r: AnyResource = parseResource(svc);
  assert.equal(r.kind, 'Service');
  if (r.kind === 'Service') assert.deepEqual(r.spec.ports, [{ name: 'http', port: 80, appProtocol: 'http' }]);
});

test('an unknown kind names the kinds that exist, and a near miss', () => {
  const r = safeParseResource({ ...svc, kind: 'VirtualService' });
  assert.ok(!r.success);
  assert.equal(r.error.issues.length, 1);
  assert.equal(r.error.issues[0]?.field, 'kind');
  assert.match(r.error.message, /unknown kind "VirtualService"\. Known kinds: Mesh, Service, Workload, DestinationPolicy, AuthorizationPolicy, RateLimitPolicy, FaultPolicy \(weft\.dev\/v1alpha1\); HTTPRoute, GRPCRoute \(gateway\.networking\.k8s\.io\/v1\)/);
  assert.throws(() => parseResource({ ...svc, kind: 'service' }), (err: unknown) => err instanceof ResourceValidationError && /did you mean "Service"\?/.test(err.message));
});

test('a known kind under the wrong apiVersion says which one serves it', () => {
  const r = safeParseResource({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'HTTPRoute', metadata: { name: 'r' }, spec: {} });
  assert.ok(!r.success);
  assert.deepEqual(
    r.error.issues.map((i) => [i.field, i.message]),
    [['apiVersion', 'kind HTTPRoute is served as apiVersion "gateway.networking.k8s.io/v1", not "gateway.networking.k8s.io/v1beta1"']],
  );
});

test('documents that are not resources get a clear answer', () => {
  for (const doc of [null, 42, 'text', []]) {
    const r = safeParseResource(doc);
    assert.ok(!r.success);
    assert.match(r.error.message, /a resource must be a mapping with apiVersion, kind, metadata and spec/);
  }
  const missing = safeParseResource({ metadata: { name: 'x' } });
  assert.ok(!missing.success);
  assert.deepEqual(
    missing.error.issues.map((i) => i.field),
    ['apiVersion', 'kind'],
  );
  assert.match(missing.error.message, /kind: is required: one of Mesh/);
});

test('the error message names the resource, then each field and rule', () => {
  const r = safeParseResource({ ...svc, metadata: { name: 'reviews', namespace: 'shop' }, spec: { ports: [{ port: 0 }], colour: 'red' } });
  assert.ok(!r.success);
  assert.equal(r.error.message, 'invalid Service shop/reviews:\n  spec.ports[0].port: must be a port from 1 to 65535\n  spec.colour: Unrecognized key: "colour"');
});

test('every example in the reference is valid for its kind', () => {
  // The examples are YAML; the YAML test reads them with parseDocuments. Here: the kind matches.
  for (const k of RESOURCE_KIND_LIST) assert.match(k.example, new RegExp(`^kind: ${k.kind}$`, 'm'));
});

test('status and server metadata are accepted on input, and withoutServerFields drops them', () => {
  const stored = parseResource({
    ...svc,
    metadata: { name: 'reviews', uid: 'u-1', resourceVersion: '7', generation: 3, creationTimestamp: '2025-01-01T00:00:00Z' },
    status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', lastTransitionTime: '2025-01-01T00:00:00Z' }] },
  });
  assert.equal(stored.status?.conditions[0]?.type, 'Accepted');
  const input = withoutServerFields(stored);
  assert.equal('status' in input, false);
  assert.deepEqual(input.metadata, { name: 'reviews', namespace: 'default', labels: {}, annotations: {} });
  assert.ok(AnyResourceSchema.safeParse(input).success, 'what withoutServerFields returns is valid input');
});

test('conditions are validated: one per type, RFC 3339 times', () => {
  const cond = { type: 'Accepted', status: 'True', reason: 'Accepted', lastTransitionTime: '2025-01-01T00:00:00Z' };
  const dup = safeParseResource({ ...svc, status: { conditions: [cond, cond] } });
  assert.ok(!dup.success);
  assert.match(dup.error.message, /status\.conditions\[1\]\.type: duplicate condition type "Accepted"/);
  const badTime = safeParseResource({ ...svc, status: { conditions: [{ ...cond, lastTransitionTime: 'yesterday' }] } });
  assert.ok(!badTime.success);
  assert.match(badTime.error.message, /status\.conditions\[0\]\.lastTransitionTime/);
});
