import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPCRouteRetrySchema, HTTPRouteRetrySchema, MeshSpecSchema, RouteRuleSchema, parseResource } from '@weft/api';
import { buildMeshContext, routingViewFor } from './mesh-context.js';
import { compileRetry, compileRouteDefaults, compileTimeouts, ruleResilience } from './route-resilience.js';

test('timeouts become milliseconds; 0s stays 0 (disabled); none set is no timeouts', () => {
  assert.deepEqual(compileTimeouts({ request: '1m', backendRequest: '1500ms' }), { requestMs: 60_000, backendRequestMs: 1500 });
  assert.deepEqual(compileTimeouts({ request: '0s' }), { requestMs: 0 });
  assert.equal(compileTimeouts({}), undefined);
  assert.equal(compileTimeouts(undefined), undefined);
});

test('retry: connect failures and refused streams always, codes sorted, backoff as the base; defaults spelled out', () => {
  const r = compileRetry(HTTPRouteRetrySchema.parse({ codes: [503, 500], attempts: 4, backoff: '200ms' }));
  assert.deepEqual(r.retry, {
    attempts: 4,
    backoff: { baseMs: 200 },
    retryOn: ['connect-failure', 'refused-stream'],
    statusCodes: [500, 503],
    grpcStatuses: [],
    maxReplayBodyBytes: 65_536,
  });
  assert.deepEqual(compileRetry({}).retry, { attempts: 2, backoff: { baseMs: 25 }, retryOn: ['connect-failure', 'refused-stream'], statusCodes: [], grpcStatuses: [], maxReplayBodyBytes: 65_536 });
  assert.deepEqual(compileRetry(undefined), { retry: undefined });
  assert.equal(compileRetry({ attempts: 0 }).retry?.attempts, 0, '0 disables retries and is kept');
});

test('a retry past the limits of proxies is refused with the field and the reason, never clamped', () => {
  // HTTPRoute allows any attempts and backoff; the snapshot caps them at 100 and an hour.
  const attempts = compileRetry({ attempts: 101 });
  assert.equal(attempts.retry, undefined);
  assert.equal(attempts.problem, 'retry.attempts: at most 100, the most proxies apply');
  assert.equal(compileRetry({ backoff: '2h' }).problem, 'retry.backoff: at most 1h, the most proxies apply');
  const rule = ruleResilience({ retry: { attempts: 500 } }, { retry: compileRetry({}).retry });
  assert.match(rule.problem ?? '', /retry\.attempts/);
  assert.equal(rule.retry, undefined, 'a refused retry is not replaced by the default');
  const mesh = compileRouteDefaults(MeshSpecSchema.parse({ defaults: { route: { timeouts: { request: '5s' }, retry: { attempts: 1000 } } } }));
  assert.deepEqual(mesh.defaults, { timeouts: { requestMs: 5000 } }, 'the other default still applies');
  assert.match(mesh.problem ?? '', /^defaults\.route\.retry\.attempts: .*not applied/);
});

test('a rule takes its own timeouts and retry, each independently, else the Mesh route defaults', () => {
  const { defaults, problem } = compileRouteDefaults(MeshSpecSchema.parse({ defaults: { route: { timeouts: { request: '30s' }, retry: { attempts: 1 } } } }));
  assert.equal(problem, undefined);
  assert.deepEqual(defaults.timeouts, { requestMs: 30_000 });
  assert.equal(defaults.retry?.attempts, 1);
  assert.ok(Object.isFrozen(defaults));
  const own = ruleResilience({ timeouts: { backendRequest: '1s' } }, defaults);
  assert.deepEqual(own.timeouts, { backendRequestMs: 1000 }, 'timeouts taken whole, not merged with the default');
  assert.equal(own.retry, defaults.retry);
  assert.deepEqual(ruleResilience({}, {}), {}, 'no defaults, nothing set: no fields at all');
  assert.deepEqual(compileRouteDefaults(MeshSpecSchema.parse({})), { defaults: {} });
});

test('compiled timeouts and retry are valid on a snapshot rule', () => {
  const r = ruleResilience({ timeouts: { request: '2s', backendRequest: '1s' }, retry: { codes: [502] } }, {});
  const rule = RouteRuleSchema.parse({ backendRefs: [{ service: 'a.default' }], ...r });
  assert.deepEqual({ timeouts: rule.timeouts, retry: rule.retry }, r);
  assert.equal(r.problem, undefined);
});

test('a Mesh whose retry default proxies refuse compiles without it, and its status says why', () => {
  const mesh = parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { defaults: { route: { timeouts: { request: '5s' }, retry: { attempts: 1000 } } } } });
  const svc = parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'reviews' } });
  const ctx = buildMeshContext({ resources: [mesh, svc], workloads: [] });
  const accepted = ctx.statuses.find((s) => s.kind === 'Mesh')?.conditions[0];
  assert.equal(accepted?.reason, 'UnsupportedValue');
  assert.match(accepted?.message ?? '', /defaults\.route\.retry\.attempts/);
  const routes = routingViewFor(ctx, 'reviews.default', 'default')?.config.routes;
  assert.deepEqual(routes, [{ name: 'default', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: 'reviews.default', weight: 1 }], timeouts: { requestMs: 5000 } }]);
});

test('GRPCRoute retry (a Weft extension): gRPC status names become grpcStatuses, and the rule carries them to callers', () => {
  const r = compileRetry(GRPCRouteRetrySchema.parse({ codes: ['UNAVAILABLE', 'ABORTED'], attempts: 3 }));
  assert.deepEqual(r.retry, {
    attempts: 3,
    backoff: { baseMs: 25 },
    retryOn: ['connect-failure', 'refused-stream'],
    statusCodes: [],
    grpcStatuses: ['ABORTED', 'UNAVAILABLE'],
    maxReplayBodyBytes: 65_536,
  });
  const svc = parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'rpc' }, spec: { ports: [{ name: 'grpc', port: 50051, appProtocol: 'grpc' }] } });
  const route = parseResource({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: { name: 'rpc' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'rpc' }], rules: [{ backendRefs: [{ name: 'rpc', port: 50051 }], retry: { codes: ['UNAVAILABLE'], attempts: 2 } }] },
  });
  const ctx = buildMeshContext({ resources: [svc, route], workloads: [] });
  const rules = routingViewFor(ctx, 'rpc.default', 'default')?.config.routes ?? [];
  assert.equal(rules.length, 1);
  assert.deepEqual(rules[0]?.retry?.grpcStatuses, ['UNAVAILABLE']);
  assert.deepEqual(rules[0]?.retry?.statusCodes, []);
  assert.ok(GRPCRouteRetrySchema.safeParse({ codes: ['NOT_A_STATUS'] }).success === false, 'an unknown status name is refused at apply');
  assert.ok(GRPCRouteRetrySchema.safeParse({ codes: ['UNAVAILABLE', 'UNAVAILABLE'] }).success === false, 'a repeated status is refused');
});
