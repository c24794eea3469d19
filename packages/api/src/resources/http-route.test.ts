import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTPRouteSchema, type HTTPRoute } from './http-route.js';
import { safeParseResource } from './registry.js';

const route = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'reviews' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'reviews', port: 9080 }], ...spec },
});

const backend = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, port: 9080, ...extra });

/** Every problem of an invalid document, as `field: message`. */
const problems = (doc: unknown): string[] => {
  const r = safeParseResource(doc);
  assert.ok(!r.success, 'expected the document to be invalid');
  return r.error.issues.map((i) => `${i.field}: ${i.message}`);
};

const assertProblem = (doc: unknown, field: string, message: RegExp): void => {
  const all = problems(doc);
  assert.ok(
    all.some((p) => p.startsWith(`${field}: `) && message.test(p.slice(field.length + 2))),
    `expected "${field}: ${message}" among:\n  ${all.join('\n  ')}`,
  );
};

test('a minimal route gets the Gateway API defaults', () => {
  const r = HTTPRouteSchema.parse(route({}));
  assert.equal(r.metadata.namespace, 'default');
  assert.deepEqual(r.spec.rules, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
  const parent = r.spec.parentRefs[0];
  assert.deepEqual(parent, { group: '', kind: 'Service', name: 'reviews', port: 9080 });
});

test('a canary route parses, with weights, match and backend defaults applied', () => {
  const r: HTTPRoute = HTTPRouteSchema.parse(
    route({
      rules: [
        {
          name: 'split',
          matches: [{ path: { value: '/api' } }, { headers: [{ name: 'x-canary', value: 'yes' }], method: 'GET' }],
          backendRefs: [backend('reviews-v1', { weight: 90 }), backend('reviews-v2', { weight: 10 }), backend('reviews-v3')],
          timeouts: { request: '10s', backendRequest: '2s' },
          retry: { codes: [503], attempts: 2, backoff: '100ms' },
        },
      ],
    }),
  );
  const rule = r.spec.rules[0];
  assert.ok(rule);
  assert.deepEqual(rule.matches, [
    { path: { type: 'PathPrefix', value: '/api' } },
    { path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-canary', value: 'yes' }], method: 'GET' },
  ]);
  assert.deepEqual(
    rule.backendRefs?.map((b) => [b.group, b.kind, b.name, b.weight]),
    [
      ['', 'Service', 'reviews-v1', 90],
      ['', 'Service', 'reviews-v2', 10],
      ['', 'Service', 'reviews-v3', 1],
    ],
  );
});

test('every filter type parses, with its defaults', () => {
  const r = HTTPRouteSchema.parse(
    route({
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [{ name: 'x-b', value: '2' }], remove: ['x-c'] } },
            { type: 'ResponseHeaderModifier', responseHeaderModifier: { remove: ['server'] } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow', port: 80 }, percent: 10 } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'shadow2', port: 80 }, fraction: { numerator: 1 } } },
            { type: 'URLRewrite', urlRewrite: { hostname: 'new.example.com', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } },
          ],
          backendRefs: [backend('reviews')],
        },
        {
          name: 'moved',
          matches: [{ path: { type: 'Exact', value: '/gone' } }],
          filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', path: { type: 'ReplaceFullPath', replaceFullPath: '/here' } } }],
        },
      ],
    }),
  );
  const [first, second] = r.spec.rules;
  const mirror = first?.filters?.[3];
  assert.ok(mirror?.type === 'RequestMirror');
  assert.deepEqual(mirror.requestMirror.fraction, { numerator: 1, denominator: 100 });
  assert.equal(mirror.requestMirror.backendRef.kind, 'Service');
  const redirect = second?.filters?.[0];
  assert.ok(redirect?.type === 'RequestRedirect');
  assert.equal(redirect.requestRedirect.statusCode, 302);
});

test('a path that does not start with "/" is refused, naming the field', () => {
  assertProblem(route({ rules: [{ matches: [{ path: { value: 'api' } }] }] }), 'spec.rules[0].matches[0].path.value', /must start with "\/"/);
  assertProblem(route({ rules: [{ matches: [{ path: { type: 'Exact', value: '/a//b' } }] }] }), 'spec.rules[0].matches[0].path.value', /'\/\/'/);
  assertProblem(route({ rules: [{ matches: [{ path: { value: '/a/../b' } }] }] }), 'spec.rules[0].matches[0].path.value', /'\/\.\.\/'/);
  assertProblem(route({ rules: [{ matches: [{ path: { value: '/a#b' } }] }] }), 'spec.rules[0].matches[0].path.value', /'#'/);
});

test('regular expressions are checked to compile; they may be any path', () => {
  assert.ok(safeParseResource(route({ rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/users/[0-9]+' } }] }] })).success);
  assertProblem(route({ rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/users/[0-9' } }] }] }), 'spec.rules[0].matches[0].path.value', /valid regular expression/);
  assertProblem(
    route({ rules: [{ matches: [{ headers: [{ type: 'RegularExpression', name: 'x', value: '(' }] }] }] }),
    'spec.rules[0].matches[0].headers[0].value',
    /valid regular expression/,
  );
});

test('a wrong enum value says which values exist', () => {
  assertProblem(route({ rules: [{ matches: [{ path: { type: 'Prefix', value: '/' } }] }] }), 'spec.rules[0].matches[0].path.type', /"Exact".*"PathPrefix".*"RegularExpression"/);
  assertProblem(route({ rules: [{ matches: [{ method: 'get' }] }] }), 'spec.rules[0].matches[0].method', /"GET"/);
  assertProblem(route({ rules: [{ filters: [{ type: 'CORS', cors: {} }] }] }), 'spec.rules[0].filters[0].type', /RequestHeaderModifier/);
});

test('an unknown field is refused at its own path', () => {
  assertProblem(route({ rules: [{ backendRefs: [backend('a', { subset: { version: 'v2' } })] }] }), 'spec.rules[0].backendRefs[0].subset', /Unrecognized key/);
  assertProblem(route({ rule: [] }), 'spec.rule', /Unrecognized key/);
  assertProblem(route({ rules: [{ timeout: '1s' }] }), 'spec.rules[0].timeout', /Unrecognized key/);
});

test('weights are whole numbers from 0 to 1000000', () => {
  assertProblem(route({ rules: [{ backendRefs: [backend('a', { weight: -1 })] }] }), 'spec.rules[0].backendRefs[0].weight', /from 0 to 1000000/);
  assertProblem(route({ rules: [{ backendRefs: [backend('a', { weight: 1_000_001 })] }] }), 'spec.rules[0].backendRefs[0].weight', /from 0 to 1000000/);
  assertProblem(route({ rules: [{ backendRefs: [backend('a', { weight: 0.5 })] }] }), 'spec.rules[0].backendRefs[0].weight', /whole number/);
  assert.ok(safeParseResource(route({ rules: [{ backendRefs: [backend('a', { weight: 0 })] }] })).success);
});

test('timeouts are Gateway API durations, and backendRequest is within request', () => {
  assertProblem(route({ rules: [{ timeouts: { request: '1.5s' } }] }), 'spec.rules[0].timeouts.request', /must be a duration/);
  assertProblem(route({ rules: [{ timeouts: { request: '10' } }] }), 'spec.rules[0].timeouts.request', /must be a duration/);
  assertProblem(route({ rules: [{ timeouts: { request: '1s', backendRequest: '2s' } }] }), 'spec.rules[0].timeouts.backendRequest', /cannot be longer than request/);
  assert.ok(safeParseResource(route({ rules: [{ timeouts: { request: '0s', backendRequest: '2s' } }] })).success, '0s disables the request timeout');
});

test('retry codes are statuses from 400 to 599, listed once', () => {
  assertProblem(route({ rules: [{ retry: { codes: [200] } }] }), 'spec.rules[0].retry.codes[0]', /400 to 599/);
  assertProblem(route({ rules: [{ retry: { codes: [503, 503] } }] }), 'spec.rules[0].retry.codes[1]', /duplicate status code/);
  assertProblem(route({ rules: [{ retry: { attempts: -1 } }] }), 'spec.rules[0].retry.attempts', /at least 0/);
});

test('parents and backends must be Services in the core group', () => {
  assertProblem(route({ parentRefs: [{ name: 'reviews' }] }), 'spec.parentRefs[0].kind', /Services only.*got kind "Gateway"/);
  assertProblem(route({ parentRefs: [{ kind: 'Service', name: 'reviews' }] }), 'spec.parentRefs[0].group', /core group: set group: ""/);
  assertProblem(route({ parentRefs: [] }), 'spec.parentRefs', /at least one Service/);
  assertProblem(route({ rules: [{ backendRefs: [{ name: 'a' }] }] }), 'spec.rules[0].backendRefs[0].port', /needs its port/);
  assertProblem(route({ rules: [{ backendRefs: [{ kind: 'ServiceImport', name: 'a', port: 1 }] }] }), 'spec.rules[0].backendRefs[0].kind', /Service backends only/);
  assertProblem(
    route({ parentRefs: [{ group: '', kind: 'Service', name: 'a' }, { group: '', kind: 'Service', name: 'a' }] }),
    'spec.parentRefs[1]',
    /same Service/,
  );
  assert.ok(
    safeParseResource(
      route({ parentRefs: [{ group: '', kind: 'Service', name: 'a', port: 80 }, { group: '', kind: 'Service', name: 'a', port: 81 }] }),
    ).success,
  );
});

test("the Gateway API's rule-level rules hold", () => {
  assertProblem(
    route({ rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: {} }], backendRefs: [backend('a')] }] }),
    'spec.rules[0].filters[0].type',
    /RequestRedirect filter must not be used together with backendRefs/,
  );
  assertProblem(
    route({ rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: {} }, { type: 'URLRewrite', urlRewrite: {} }] }] }),
    'spec.rules[0].filters[1].type',
    /either RequestRedirect or URLRewrite/,
  );
  assertProblem(
    route({ rules: [{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: {} }, { type: 'RequestHeaderModifier', requestHeaderModifier: {} }] }] }),
    'spec.rules[0].filters[1].type',
    /cannot be repeated/,
  );
  assertProblem(
    route({
      rules: [
        {
          matches: [{ path: { type: 'Exact', value: '/a' } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }],
        },
      ],
    }),
    'spec.rules[0].matches',
    /exactly one match, of type PathPrefix/,
  );
  assertProblem(
    route({ rules: [{ filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replacePrefixMatch: '/b' } } }] }] }),
    'spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch',
    /Unrecognized key/,
  );
  assertProblem(
    route({ rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: backend('a'), percent: 5, fraction: { numerator: 1 } } }] }] }),
    'spec.rules[0].filters[0].requestMirror.fraction',
    /only one of percent or fraction/,
  );
  assertProblem(
    route({ rules: [{ filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }], remove: ['x-a'] } }] }] }),
    'spec.rules[0].filters[0].requestHeaderModifier.remove[0]',
    /only one action per header/,
  );
});

test("the Gateway API's limits hold: 16 rules, 64 matches per rule, 128 per route, unique rule names", () => {
  const rules = (n: number, matches = 1) => Array.from({ length: n }, () => ({ matches: Array.from({ length: matches }, () => ({ path: { value: '/' } })) }));
  assert.ok(safeParseResource(route({ rules: rules(16) })).success);
  assertProblem(route({ rules: rules(17) }), 'spec.rules', /at most 16/i);
  assertProblem(route({ rules: rules(1, 65) }), 'spec.rules[0].matches', /at most 64/i);
  assertProblem(route({ rules: rules(3, 50) }), 'spec.rules', /150 matches in all: at most 128/);
  assertProblem(route({ rules: [] }), 'spec.rules', />=1|at least 1/i);
  assertProblem(route({ rules: [{ name: 'a' }, { name: 'a' }] }), 'spec.rules[1].name', /duplicate rule name "a"/);
  assertProblem(route({ rules: [{ name: 'Not_A_Name' }] }), 'spec.rules[0].name', /DNS name/);
  assertProblem(route({ rules: [{ matches: [{ headers: [{ name: 'X-A', value: '1' }, { name: 'x-a', value: '2' }] }] }] }), 'spec.rules[0].matches[0].headers[1].name', /duplicate header/);
});

test('status is optional on input and validated when present', () => {
  const withStatus = {
    ...route({}),
    status: {
      parents: [
        {
          parentRef: { group: '', kind: 'Service', name: 'reviews' },
          controllerName: 'weft.dev/control-plane',
          conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', lastTransitionTime: '2025-01-01T00:00:00Z' }],
        },
      ],
    },
  };
  const r = HTTPRouteSchema.parse(withStatus);
  assert.equal(r.status?.parents[0]?.conditions[0]?.message, '');
  assert.deepEqual(r.status?.conditions, []);
  assertProblem({ ...route({}), status: { parents: [], conditions: [{ type: 'Accepted', status: 'Yes', reason: 'X', lastTransitionTime: '2025-01-01T00:00:00Z' }] } }, 'status.conditions[0].status', /"True"/);
});
