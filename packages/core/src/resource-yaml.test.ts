import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnyResourceSchema, RESOURCE_KIND_LIST } from '@weft/api';
import { ConfigValidationError, parseDocuments } from './yaml-validate.js';

/** Runs `fn`, asserts it throws a ConfigValidationError, and returns it. */
const invalid = (fn: () => unknown): ConfigValidationError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
};

const BAD_ROUTE = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
    - group: ""
      kind: Service
      name: reviews
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: api
      backendRefs:
        - name: reviews-v1
          port: 9080
          weight: 90
        - name: reviews-v2
          port: 9080
          weight: -10
          subset: v2
      timeouts:
        request: 1.5s
`;

test('a bad route in a multi-document file is reported with file:line:column: field: rule', () => {
  const err = invalid(() => parseDocuments(AnyResourceSchema, BAD_ROUTE, 'routes/reviews.yaml'));
  assert.deepEqual(err.message.split('\n'), [
    'routes/reviews.yaml:19:20: spec.rules[0].matches[0].path.value: must start with "/" (path type PathPrefix)',
    'routes/reviews.yaml:26:19: spec.rules[0].backendRefs[1].weight: must be from 0 to 1000000',
    'routes/reviews.yaml:27:11: spec.rules[0].backendRefs[1].subset: Unrecognized key: "subset"',
    'routes/reviews.yaml:29:18: spec.rules[0].timeouts.request: must be a duration such as "500ms", "10s" or "1h30m" (units h, m, s, ms; no fractions)',
  ]);
  assert.equal(err.issues[0]?.line, 19);
  assert.equal(err.issues[0]?.field, 'spec.rules[0].matches[0].path.value');
});

test('an unknown kind is reported at the kind line, with the kinds that exist', () => {
  const err = invalid(() => parseDocuments(AnyResourceSchema, 'apiVersion: weft.dev/v1alpha1\nkind: Route\nmetadata:\n  name: x\n', 'x.yaml'));
  assert.equal(err.issues.length, 1);
  assert.match(err.message, /^x\.yaml:2:7: kind: unknown kind "Route"\. Known kinds: Mesh, Service/);
});

test('a valid multi-kind file parses in order, defaults applied', () => {
  const docs = parseDocuments(AnyResourceSchema, RESOURCE_KIND_LIST.map((k) => k.example).join('---\n'), 'all.yaml');
  assert.deepEqual(
    docs.map((d) => d.kind),
    ['Mesh', 'Service', 'Service', 'Workload', 'HTTPRoute', 'GRPCRoute', 'DestinationPolicy', 'AuthorizationPolicy', 'AuthorizationPolicy', 'RateLimitPolicy', 'FaultPolicy'],
  );
});

test("every kind's example in the reference is valid", () => {
  for (const k of RESOURCE_KIND_LIST) {
    const docs = parseDocuments(k.schema, k.example, `${k.kind}.example.yaml`);
    assert.ok(docs.length >= 1, k.kind);
  }
});
