import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxySnapshotSchema, type ProxySnapshotInput } from '@weft/api';
import { Http1RouteRequest } from './route-request.js';
import { matchRoute, RoutingTable } from './routing-table.js';

const snapshot = (over: Partial<ProxySnapshotInput>) =>
  ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: '1', endpointsVersion: '1', ...over });

const reviews = {
  name: 'reviews',
  ports: [{ port: 9080, protocol: 'http' as const }],
};
const eps = {
  'reviews.default': [
    { address: '127.0.0.1', port: 1001, labels: { version: 'v1' } },
    { address: '127.0.0.1', port: 1002, labels: { version: 'v2' } },
  ],
};

test('a service is found by every authority a client may use, and not by others', () => {
  const t = new RoutingTable(snapshot({ services: [reviews], endpoints: eps }), 'default');
  for (const a of ['reviews', 'reviews:9080', 'reviews.default', 'reviews.default:9080', 'reviews.default.svc', 'reviews.default.svc.cluster.local:9080', 'REVIEWS']) {
    assert.equal(t.byAuthority(a)?.key, 'reviews.default', a);
  }
  for (const a of ['reviews:81', 'ratings', 'reviews.other', '']) assert.equal(t.byAuthority(a), undefined, a);
});

test('a bare name resolves only in the proxy\'s own namespace', () => {
  const t = new RoutingTable(snapshot({ services: [reviews], endpoints: eps }), 'shop');
  assert.equal(t.byAuthority('reviews'), undefined);
  assert.equal(t.byAuthority('reviews.default')?.key, 'reviews.default');
});

test('round robin visits every endpoint in turn', () => {
  const t = new RoutingTable(snapshot({ services: [reviews], endpoints: eps }), 'default');
  const svc = t.byKey('reviews.default');
  assert.ok(svc);
  const route = matchRoute(svc, '/');
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) seen.push(route?.route.pick()?.backend?.balancer.pick()?.port ?? 0);
  assert.deepEqual(new Set(seen), new Set([1001, 1002]));
  for (let i = 2; i < 6; i++) assert.equal(seen[i], seen[i - 2], 'alternates');
});

test('path prefixes match whole segments; exact matches ignore the query', () => {
  const svc = {
    ...reviews,
    routes: [
      { name: 'exact', matches: [{ path: { type: 'Exact' as const, value: '/health' } }], backendRefs: [{ service: 'reviews.default' }] },
      { name: 'api', matches: [{ path: { type: 'PathPrefix' as const, value: '/api' } }], backendRefs: [{ service: 'reviews.default' }] },
    ],
  };
  const t = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default');
  const s = t.byKey('reviews.default');
  assert.ok(s);
  assert.equal(matchRoute(s, '/health')?.route.name, 'exact');
  assert.equal(matchRoute(s, '/health?x=1')?.route.name, 'exact');
  assert.equal(matchRoute(s, '/health/x'), undefined);
  assert.equal(matchRoute(s, '/api')?.route.name, 'api');
  assert.equal(matchRoute(s, '/api/v1?q')?.route.name, 'api');
  assert.equal(matchRoute(s, '/api?q')?.route.name, 'api');
  assert.equal(matchRoute(s, '/apix'), undefined);
  assert.equal(matchRoute(s, '/'), undefined);
});

test('weighted backends split by weight, and subsets select endpoints by label', () => {
  const svc = {
    ...reviews,
    routes: [
      {
        backendRefs: [
          { service: 'reviews.default', subset: { version: 'v1' }, weight: 90 },
          { service: 'reviews.default', subset: { version: 'v2' }, weight: 10 },
        ],
      },
    ],
  };
  const t = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default');
  const route = matchRoute(t.byKey('reviews.default')!, '/x');
  assert.ok(route);
  const counts = new Map<number, number>();
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const port = route.route.pick()?.backend?.balancer.pick()?.port ?? 0;
    counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  const v2 = (counts.get(1002) ?? 0) / n;
  // 10% expected; 5 standard deviations of a binomial(20000, 0.1) is about 1.1%.
  assert.ok(v2 > 0.089 && v2 < 0.111, `v2 share ${v2}`);
  assert.equal([...counts.keys()].sort().join(), '1001,1002');
});

test('a backend whose subset matches no endpoint has an empty picker', () => {
  const svc = { ...reviews, routes: [{ backendRefs: [{ service: 'reviews.default', subset: { version: 'v9' } }] }] };
  const t = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default');
  assert.equal(matchRoute(t.byKey('reviews.default')!, '/')?.route.pick()?.backend?.balancer.pick(), undefined);
});

test('rules are tried in order: the first match wins, even when a later one is more specific', () => {
  const svc = {
    ...reviews,
    routes: [
      { name: 'beta', matches: [{ headers: [{ name: 'x-user', value: 'beta' }] }], backendRefs: [{ service: 'reviews.default', subset: { version: 'v2' } }] },
      { name: 'exact', matches: [{ path: { type: 'Exact' as const, value: '/health' } }], backendRefs: [{ service: 'reviews.default' }] },
      { name: 'rest', backendRefs: [{ service: 'reviews.default', subset: { version: 'v1' } }] },
    ],
  };
  const t = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default');
  const s = t.byKey('reviews.default')!;
  const req = (path: string, headers: string[] = []) => new Http1RouteRequest('GET', path, headers);
  assert.equal(matchRoute(s, req('/health', ['X-User', 'beta']))?.route.name, 'beta');
  assert.equal(matchRoute(s, req('/health'))?.route.name, 'exact');
  assert.equal(matchRoute(s, req('/x'))?.route.name, 'rest');
  assert.equal(matchRoute(s, req('/x', ['x-user', 'beta']))?.route.pick()?.backend?.balancer.pick()?.port, 1002);
});

test('a service whose routes all have conditions matches nothing else', () => {
  const svc = { ...reviews, routes: [{ matches: [{ method: 'POST' as const }], backendRefs: [{ service: 'reviews.default' }] }] };
  const s = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default').byKey('reviews.default')!;
  assert.equal(matchRoute(s, new Http1RouteRequest('GET', '/', [])), undefined);
  assert.ok(matchRoute(s, new Http1RouteRequest('POST', '/', [])));
});

test('a rule without filters has no plan; with filters, each backend has the rule\'s and its own', () => {
  const svc = {
    ...reviews,
    routes: [
      { name: 'plain', matches: [{ path: { value: '/plain' } }], backendRefs: [{ service: 'reviews.default' }] },
      {
        name: 'filtered',
        filters: [{ type: 'RequestHeaderModifier' as const, requestHeaderModifier: { set: [{ name: 'x-rule', value: '1' }] } }],
        backendRefs: [
          { service: 'reviews.default', subset: { version: 'v1' }, weight: 1 },
          { service: 'reviews.default', subset: { version: 'v2' }, weight: 1, filters: [{ type: 'RequestHeaderModifier' as const, requestHeaderModifier: { set: [{ name: 'x-backend', value: 'v2' }] } }] },
        ],
      },
    ],
  };
  const s = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default').byKey('reviews.default')!;
  assert.equal(matchRoute(s, '/plain')?.route.pick()?.plan, undefined);
  const route = matchRoute(s, '/other')?.route;
  assert.ok(route);
  const seen = new Map<string, string[]>();
  for (let i = 0; i < 200; i++) {
    const target = route.pick();
    const headers = target?.plan?.requestHeaders?.raw([]) ?? [];
    seen.set(target?.backend?.name ?? '', headers.filter((_, j) => j % 2 === 0));
  }
  assert.deepEqual(seen.get('reviews.default[version=v1]'), ['x-rule']);
  assert.deepEqual(seen.get('reviews.default[version=v2]'), ['x-rule', 'x-backend']);
});

test('a rule that redirects picks no backend', () => {
  const svc = { ...reviews, routes: [{ filters: [{ type: 'RequestRedirect' as const, requestRedirect: { scheme: 'https' as const } }], backendRefs: [] }] };
  const s = new RoutingTable(snapshot({ services: [svc], endpoints: eps }), 'default').byKey('reviews.default')!;
  const target = matchRoute(s, '/a')?.route.pick();
  assert.equal(target?.backend, undefined);
  assert.equal(target?.plan?.redirect?.({ scheme: 'http', authority: 'reviews:9080', target: '/a' }, '').location, 'https://reviews/a');
});
