import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPCRouteSchema } from './grpc-route.js';
import { safeParseResource } from './registry.js';

const route = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'GRPCRoute',
  metadata: { name: 'ratings' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'ratings' }], ...spec },
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

test('method and header matches parse with the Gateway API defaults', () => {
  const r = GRPCRouteSchema.parse(
    route({
      rules: [
        {
          name: 'rate',
          matches: [{ method: { service: 'shop.Ratings', method: 'Rate' }, headers: [{ name: 'x-tenant', value: 'acme' }] }, { method: { type: 'RegularExpression', service: 'shop\\..*' } }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { add: [{ name: 'x-via', value: 'weft' }] } }],
          backendRefs: [
            { name: 'ratings-v1', port: 9090, weight: 95 },
            { name: 'ratings-v2', port: 9090, weight: 5 },
          ],
        },
      ],
    }),
  );
  const rule = r.spec.rules?.[0];
  assert.deepEqual(rule?.matches?.[0], { method: { type: 'Exact', service: 'shop.Ratings', method: 'Rate' }, headers: [{ type: 'Exact', name: 'x-tenant', value: 'acme' }] });
  assert.deepEqual(
    rule?.backendRefs?.map((b) => [b.kind, b.weight]),
    [
      ['Service', 95],
      ['Service', 5],
    ],
  );
});

test('typical mistakes are named', () => {
  assertProblem(route({ rules: [{ matches: [{ method: {} }] }] }), 'spec.rules[0].matches[0].method', /one or both of 'service' or 'method'/);
  assertProblem(route({ rules: [{ matches: [{ method: { method: 'shop/Rate' } }] }] }), 'spec.rules[0].matches[0].method.method', /gRPC method name/);
  assertProblem(route({ rules: [{ matches: [{ method: { service: 'shop Ratings' } }] }] }), 'spec.rules[0].matches[0].method.service', /gRPC service name/);
  assertProblem(route({ rules: [{ matches: [{ method: { type: 'Prefix', service: 'a' } }] }] }), 'spec.rules[0].matches[0].method.type', /"Exact"\|"RegularExpression"/);
  assertProblem(route({ rules: [{ matches: Array.from({ length: 9 }, () => ({})) }] }), 'spec.rules[0].matches', /at most 8/);
  assertProblem(route({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: {} }] }] }), 'spec.rules[0].filters[0].type', /RequestHeaderModifier/);
  assertProblem(route({ rules: [{ backendRefs: [{ name: 'a', port: 1, weight: 2_000_000 }] }] }), 'spec.rules[0].backendRefs[0].weight', /from 0 to 1000000/);
  assertProblem(route({ rules: [{ timeouts: { request: '1s' } }] }), 'spec.rules[0].timeouts', /Unrecognized key/);
});
