import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxySnapshotSchema, type ProxySnapshotInput } from '@weft/api/data-plane';
import { ProxyError } from '../errors/proxy-error.js';
import { Http1RouteRequest } from '../routing/route-request.js';
import { RoutingTable } from '../routing/routing-table.js';
import { resolveOutbound, routeOutbound } from './resolve.js';

const table = (routes: NonNullable<ProxySnapshotInput['services']>[number]['routes']): RoutingTable =>
  new RoutingTable(
    ProxySnapshotSchema.parse({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'ProxySnapshot',
      routesVersion: '1',
      endpointsVersion: '1',
      services: [{ name: 'svc', ports: [{ port: 9080 }], routes }],
      endpoints: { 'svc.default': [{ address: '127.0.0.1', port: 1001, labels: { version: 'v1' } }] },
    }),
    'default',
  );

const get = (path: string, headers: string[] = []) => new Http1RouteRequest('GET', path, headers);

const failsWith = (fn: () => unknown, code: string, message: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof ProxyError && e.code === code && message.test(e.message));
};

test('no matching rule: NR, naming the service and the request', () => {
  const t = table([{ matches: [{ path: { value: '/api' } }], backendRefs: [{ service: 'svc.default' }] }]);
  assert.equal(routeOutbound(t, 'client.default', 'svc.default', '', get('/api/x')).kind, 'forward');
  failsWith(() => routeOutbound(t, 'client.default', 'svc.default', '', get('/other?q=1')), 'WEFT_ERR_PROXY_NO_ROUTE', /^no route of svc\.default matches GET \/other\?q=1$/);
  failsWith(() => routeOutbound(t, 'client.default', undefined, 'nosuch', get('/')), 'WEFT_ERR_PROXY_NO_ROUTE', /no service "nosuch"/);
});

test('a forward carries the plan of its rule and backend, and the prefix its match matched', () => {
  const t = table([
    {
      matches: [{ path: { value: '/v1/' } }],
      filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } } }],
      backendRefs: [{ service: 'svc.default' }],
    },
    { matches: [{ path: { value: '/plain' } }], backendRefs: [{ service: 'svc.default' }] },
  ]);
  const d = routeOutbound(t, 'client.default', 'svc.default', '', get('/v1/users?x'));
  assert.ok(d.kind === 'forward');
  assert.equal(d.prefix, '/v1');
  assert.equal(d.plan?.path?.('/v1/users?x', d.prefix), '/v2/users?x');
  assert.equal(d.hop.endpoint, '127.0.0.1:1001');
  const plain = routeOutbound(t, 'client.default', 'svc.default', '', get('/plain'));
  assert.equal(plain.plan, undefined, 'a rule without filters has no plan');
});

test('redirects, from a rule or from the backend a request went to', () => {
  const redirect = { type: 'RequestRedirect' as const, requestRedirect: { scheme: 'https' as const } };
  const t = table([
    { matches: [{ path: { value: '/rule' } }], filters: [redirect], backendRefs: [] },
    { matches: [{ path: { value: '/backend' } }], backendRefs: [{ service: 'svc.default', filters: [redirect] }] },
  ]);
  for (const path of ['/rule', '/backend']) {
    const d = routeOutbound(t, 'client.default', 'svc.default', '', get(path));
    assert.equal(d.kind, 'redirect', path);
    assert.equal(d.plan?.redirect?.({ scheme: 'http', authority: 'svc', target: path }, d.prefix).location, `https://svc${path}`);
  }
  failsWith(() => resolveOutbound(t, 'client.default', 'svc.default', '', '/rule'), 'WEFT_ERR_PROXY_NO_ROUTE', /redirects/);
});

test('a rule left without backends: UH', () => {
  const t = table([{ backendRefs: [{ service: 'svc.default', weight: 0 }] }]);
  failsWith(() => routeOutbound(t, 'client.default', 'svc.default', '', get('/')), 'WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM', /no endpoints for backend \(none\)/);
});
