import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InboundAuthorizationSchema, type AuthzPolicy, type AuthzRule, type InboundAuthorization } from '@weft/api/data-plane';
import { compileAuthorizer, type AuthzDecision } from './evaluator.js';
import { readRawHeader } from './header-readers.js';
import { peerIdentityFromPrincipal, type PeerIdentity } from './peer-identity.js';

/** Callers: two in shop, one elsewhere, and a plaintext one (undefined). */
const peer = (ns: string, sa: string): PeerIdentity => {
  const p = peerIdentityFromPrincipal(`spiffe://cluster.local/ns/${ns}/sa/${sa}`);
  assert.ok(p);
  return p;
};
const FRONTEND = peer('shop', 'frontend');
const BATCH = peer('jobs', 'batch');
const ADMIN = peer('ops', 'admin');
const PLAINTEXT = undefined;

const config = (policies: AuthzPolicy[], defaultAction: 'ALLOW' | 'DENY' = 'ALLOW'): InboundAuthorization =>
  InboundAuthorizationSchema.parse({ defaultAction, policies });
const allow = (name: string, ...rules: AuthzRule[]): AuthzPolicy => ({ name: `shop/${name}`, action: 'ALLOW', rules });
const deny = (name: string, ...rules: AuthzRule[]): AuthzPolicy => ({ name: `shop/${name}`, action: 'DENY', rules });

interface Req {
  method?: string;
  path?: string;
  peer?: PeerIdentity | undefined;
  headers?: string[];
}

const decide = (c: InboundAuthorization, r: Req = {}): AuthzDecision =>
  compileAuthorizer(c).decide(r.method ?? 'GET', r.path ?? '/', 'peer' in r ? r.peer : FRONTEND, r.headers ?? [], readRawHeader);

/** Whether a lone ALLOW policy with `rule` admits the request (else: denied, no ALLOW matched). */
const admits = (rule: AuthzRule, r: Req = {}): boolean => {
  const d = decide(config([allow('p', rule)]), r);
  if (!d.allowed) assert.equal(d.basis, 'no-allow-match');
  return d.allowed;
};

test('deny wins over allow: the first matching DENY rule decides, named with its policy and rule', () => {
  const c = config([allow('everyone', {}), deny('no-admin', { to: [{ methods: [{ exact: 'POST' }] }] }, { to: [{ paths: [{ prefix: '/admin' }] }] })]);
  const d = decide(c, { path: '/admin/users' });
  assert.deepEqual(
    { allowed: d.allowed, basis: d.basis, policy: d.policy, rule: d.rule },
    { allowed: false, basis: 'deny-policy', policy: 'shop/no-admin', rule: 1 },
  );
  assert.equal(d.reason, 'denied by AuthorizationPolicy shop/no-admin rules[1] (action DENY)');
  assert.equal(decide(c, { path: '/reviews' }).policy, 'shop/everyone', 'a request no DENY rule matches goes on to ALLOW');
});

test('DENY policies are tried before ALLOW ones whatever their order in the snapshot', () => {
  const d = decide(config([allow('a-first', {}), deny('z-last', {})]));
  assert.equal(d.allowed, false);
  assert.equal(d.policy, 'shop/z-last');
});

test('allow: the first matching rule of the first matching ALLOW policy decides', () => {
  const c = config([allow('readers', { to: [{ methods: [{ exact: 'POST' }] }] }, { to: [{ methods: [{ exact: 'GET' }] }] }), allow('writers', { to: [{ methods: [{ exact: 'GET' }, { exact: 'POST' }] }] })]);
  const d = decide(c, { method: 'GET' });
  assert.deepEqual({ allowed: d.allowed, basis: d.basis, policy: d.policy, rule: d.rule }, { allowed: true, basis: 'allow-policy', policy: 'shop/readers', rule: 1 });
  assert.equal(d.reason, 'allowed by AuthorizationPolicy shop/readers rules[1]');
});

test('a Service with an ALLOW policy denies what no ALLOW policy matches, whatever the mesh default', () => {
  for (const defaultAction of ['ALLOW', 'DENY'] as const) {
    const d = decide(config([allow('only-get', { to: [{ methods: [{ exact: 'GET' }] }] })], defaultAction), { method: 'DELETE' });
    assert.equal(d.allowed, false);
    assert.equal(d.basis, 'no-allow-match');
    assert.equal(d.policy, undefined);
    assert.match(d.reason, /no ALLOW policy matched \(ALLOW policies that apply: shop\/only-get\)/);
  }
});

test('the mesh default decides when no ALLOW policy applies (no policies, or DENY ones that do not match)', () => {
  const open = compileAuthorizer(config([]));
  assert.equal(open.allowsAll, true, 'no policy and default ALLOW: nothing to evaluate');
  assert.equal(decide(config([])).allowed, true);
  const closed = decide(config([], 'DENY'));
  assert.deepEqual({ allowed: closed.allowed, basis: closed.basis }, { allowed: false, basis: 'mesh-default' });
  assert.match(closed.reason, /mesh default DENY/);
  const denyOnly = [deny('no-delete', { to: [{ methods: [{ exact: 'DELETE' }] }] })];
  assert.equal(compileAuthorizer(config(denyOnly)).allowsAll, false);
  assert.equal(decide(config(denyOnly, 'ALLOW')).basis, 'mesh-default');
  assert.equal(decide(config(denyOnly, 'ALLOW')).allowed, true);
  assert.equal(decide(config(denyOnly, 'DENY')).allowed, false);
  assert.match(decide(config(denyOnly, 'ALLOW')).reason, /mesh default ALLOW/);
});

test('the default snapshot form allows every request, even plaintext', () => {
  const c = InboundAuthorizationSchema.parse({});
  assert.equal(decide(c, { peer: PLAINTEXT, method: 'DELETE', path: '/admin' }).allowed, true);
});

test('an empty rule {} matches every request, authenticated or not', () => {
  assert.equal(admits({}, { peer: PLAINTEXT, method: 'PATCH', path: '/anything' }), true);
  assert.equal(decide(config([deny('all', {})]), { peer: ADMIN }).allowed, false);
});

test('a policy without rules: ALLOW matches nothing (so it denies everything), DENY matches nothing', () => {
  const d = decide(config([allow('closed')]), { method: 'GET' });
  assert.equal(d.allowed, false);
  assert.equal(d.basis, 'no-allow-match');
  assert.equal(decide(config([deny('nothing')])).allowed, true);
  assert.equal(decide(config([deny('nothing')], 'DENY')).basis, 'mesh-default');
});

test('paths: exact, prefix, suffix and any; the query is ignored', () => {
  const rule = (paths: AuthzRule['to']): AuthzRule => ({ to: paths });
  const exact = rule([{ paths: [{ exact: '/health' }] }]);
  assert.equal(admits(exact, { path: '/health' }), true);
  assert.equal(admits(exact, { path: '/health?verbose=1' }), true);
  assert.equal(admits(exact, { path: '/healthz' }), false);
  assert.equal(admits(exact, { path: '/health/' }), false);
  const prefix = rule([{ paths: [{ prefix: '/api/' }] }]);
  assert.equal(admits(prefix, { path: '/api/v1/items' }), true);
  assert.equal(admits(prefix, { path: '/api' }), false);
  assert.equal(admits(prefix, { path: '/apiary' }), false);
  const suffix = rule([{ paths: [{ suffix: '.json' }] }]);
  assert.equal(admits(suffix, { path: '/data/x.json' }), true);
  assert.equal(admits(suffix, { path: '/data/x.json?download' }), true);
  assert.equal(admits(suffix, { path: '/data/x.jsonp' }), false);
  const any = rule([{ paths: [{ any: true }] }]);
  assert.equal(admits(any, { path: '/whatever' }), true);
});

test('paths are matched normalised: dot segments and encoded unreserved characters cannot dodge a rule', () => {
  const c = config([deny('no-admin', { to: [{ paths: [{ prefix: '/admin' }] }] })]);
  for (const path of ['/admin', '/./admin', '/public/../admin/x', '/%61dmin', '/%2e%2e/admin', '/admin?x=/public']) {
    assert.equal(decide(c, { path }).allowed, false, `${path} must be denied`);
  }
  assert.equal(decide(c, { path: '/public/admin' }).allowed, true);
  assert.equal(decide(c, { path: '/public?next=/admin' }).allowed, true);
});

test('notPaths: a path that matches is excluded', () => {
  const rule: AuthzRule = { to: [{ paths: [{ prefix: '/reviews/' }], notPaths: [{ prefix: '/reviews/admin' }] }] };
  assert.equal(admits(rule, { path: '/reviews/1' }), true);
  assert.equal(admits(rule, { path: '/reviews/admin/x' }), false);
  assert.equal(admits(rule, { path: '/ratings/1' }), false);
});

test('methods and notMethods', () => {
  assert.equal(admits({ to: [{ methods: [{ exact: 'GET' }, { exact: 'HEAD' }] }] }, { method: 'HEAD' }), true);
  assert.equal(admits({ to: [{ methods: [{ exact: 'GET' }] }] }, { method: 'POST' }), false);
  assert.equal(admits({ to: [{ methods: [{ exact: 'GET' }] }] }, { method: 'get' }), false, 'methods are case-sensitive');
  assert.equal(admits({ to: [{ notMethods: [{ exact: 'DELETE' }] }] }, { method: 'PUT' }), true);
  assert.equal(admits({ to: [{ notMethods: [{ exact: 'DELETE' }] }] }, { method: 'DELETE' }), false);
});

test('principals: exact, prefix, suffix; "*" is any authenticated caller, never a plaintext one', () => {
  const rule = (principals: NonNullable<NonNullable<AuthzRule['from']>[number]['principals']>): AuthzRule => ({ from: [{ principals }] });
  assert.equal(admits(rule([{ exact: FRONTEND.principal }]), { peer: FRONTEND }), true);
  assert.equal(admits(rule([{ exact: FRONTEND.principal }]), { peer: BATCH }), false);
  assert.equal(admits(rule([{ prefix: 'spiffe://cluster.local/ns/jobs/' }]), { peer: BATCH }), true);
  assert.equal(admits(rule([{ prefix: 'spiffe://cluster.local/ns/jobs/' }]), { peer: FRONTEND }), false);
  assert.equal(admits(rule([{ suffix: '/sa/admin' }]), { peer: ADMIN }), true);
  assert.equal(admits(rule([{ suffix: '/sa/admin' }]), { peer: FRONTEND }), false);
  assert.equal(admits(rule([{ any: true }]), { peer: BATCH }), true);
  assert.equal(admits(rule([{ any: true }]), { peer: PLAINTEXT }), false);
  assert.equal(admits(rule([{ prefix: 'spiffe://' }]), { peer: PLAINTEXT }), false);
});

test('notPrincipals: holds for a caller without identity, except that ["*"] singles it out', () => {
  const notFrontend: AuthzRule = { from: [{ notPrincipals: [{ exact: FRONTEND.principal }] }] };
  assert.equal(admits(notFrontend, { peer: BATCH }), true);
  assert.equal(admits(notFrontend, { peer: FRONTEND }), false);
  assert.equal(admits(notFrontend, { peer: PLAINTEXT }), true);
  const denyUnauthenticated = config([deny('mtls-only', { from: [{ notPrincipals: [{ any: true }] }] }), allow('all', {})]);
  assert.equal(decide(denyUnauthenticated, { peer: PLAINTEXT }).allowed, false);
  assert.equal(decide(denyUnauthenticated, { peer: BATCH }).allowed, true);
});

test('namespaces and notNamespaces', () => {
  assert.equal(admits({ from: [{ namespaces: [{ exact: 'shop' }] }] }, { peer: FRONTEND }), true);
  assert.equal(admits({ from: [{ namespaces: [{ exact: 'shop' }] }] }, { peer: BATCH }), false);
  assert.equal(admits({ from: [{ namespaces: [{ suffix: 'bs' }] }] }, { peer: BATCH }), true);
  assert.equal(admits({ from: [{ namespaces: [{ any: true }] }] }, { peer: PLAINTEXT }), false);
  assert.equal(admits({ from: [{ notNamespaces: [{ exact: 'ops' }] }] }, { peer: ADMIN }), false);
  assert.equal(admits({ from: [{ notNamespaces: [{ exact: 'ops' }] }] }, { peer: FRONTEND }), true);
  assert.equal(admits({ from: [{ notNamespaces: [{ exact: 'ops' }] }] }, { peer: PLAINTEXT }), true);
});

test('services: the service account and the namespace must both match; notServices excludes', () => {
  const frontendInShop: AuthzRule = { from: [{ services: [{ name: { exact: 'frontend' }, namespace: { exact: 'shop' } }] }] };
  assert.equal(admits(frontendInShop, { peer: FRONTEND }), true);
  assert.equal(admits(frontendInShop, { peer: peer('staging', 'frontend') }), false, 'same name, other namespace');
  assert.equal(admits(frontendInShop, { peer: PLAINTEXT }), false);
  const anyInJobs: AuthzRule = { from: [{ services: [{ name: { any: true }, namespace: { exact: 'jobs' } }] }] };
  assert.equal(admits(anyInJobs, { peer: BATCH }), true);
  assert.equal(admits(anyInJobs, { peer: FRONTEND }), false);
  const canaries: AuthzRule = { from: [{ services: [{ name: { prefix: 'canary-' }, namespace: { exact: 'shop' } }] }] };
  assert.equal(admits(canaries, { peer: peer('shop', 'canary-web') }), true);
  assert.equal(admits(canaries, { peer: peer('jobs', 'canary-web') }), false);
  const notBatch: AuthzRule = { from: [{ notServices: [{ name: { exact: 'batch' }, namespace: { exact: 'jobs' } }] }] };
  assert.equal(admits(notBatch, { peer: BATCH }), false);
  assert.equal(admits(notBatch, { peer: FRONTEND }), true);
  assert.equal(admits(notBatch, { peer: PLAINTEXT }), true);
});

test('header conditions: values need the header with a matching value, notValues need no matching value', () => {
  const tenant: AuthzRule = { when: [{ header: 'x-tenant', values: [{ exact: 'acme' }, { prefix: 'beta-' }] }] };
  assert.equal(admits(tenant, { headers: ['X-Tenant', 'acme'] }), true, 'names are case-insensitive');
  assert.equal(admits(tenant, { headers: ['x-tenant', 'beta-7'] }), true);
  assert.equal(admits(tenant, { headers: ['x-tenant', 'other'] }), false);
  assert.equal(admits(tenant, { headers: [] }), false, 'absent: values cannot match');
  const present: AuthzRule = { when: [{ header: 'x-tenant', values: [{ any: true }] }] };
  assert.equal(admits(present, { headers: ['x-tenant', ''] }), true);
  assert.equal(admits(present, { headers: ['x-other', 'acme'] }), false);
  const noDebug: AuthzRule = { when: [{ header: 'x-debug', notValues: [{ any: true }] }] };
  assert.equal(admits(noDebug, { headers: [] }), true, 'absent: no value matches');
  assert.equal(admits(noDebug, { headers: ['x-debug', '1'] }), false);
  const notProd: AuthzRule = { when: [{ header: 'x-env', notValues: [{ exact: 'prod' }] }] };
  assert.equal(admits(notProd, { headers: ['x-env', 'dev'] }), true);
  assert.equal(admits(notProd, { headers: ['x-env', 'prod'] }), false);
  const both: AuthzRule = { when: [{ header: 'x-env', values: [{ prefix: 'p' }], notValues: [{ exact: 'prod' }] }] };
  assert.equal(admits(both, { headers: ['x-env', 'preprod'] }), true);
  assert.equal(admits(both, { headers: ['x-env', 'prod'] }), false);
});

test('repeated headers are read joined by ","', () => {
  const rule: AuthzRule = { when: [{ header: 'x-role', values: [{ exact: 'reader,writer' }] }] };
  assert.equal(admits(rule, { headers: ['x-role', 'reader', 'X-Role', 'writer'] }), true);
  assert.equal(admits(rule, { headers: ['x-role', 'reader'] }), false);
});

test('a rule needs from, to and when all to hold; entries of from (or to) are alternatives; conditions all hold', () => {
  const rule: AuthzRule = {
    from: [{ namespaces: [{ exact: 'shop' }] }, { principals: [{ exact: BATCH.principal }] }],
    to: [{ methods: [{ exact: 'GET' }] }, { paths: [{ prefix: '/public/' }] }],
    when: [
      { header: 'x-a', values: [{ exact: '1' }] },
      { header: 'x-b', values: [{ exact: '2' }] },
    ],
  };
  const headers = ['x-a', '1', 'x-b', '2'];
  assert.equal(admits(rule, { peer: FRONTEND, method: 'GET', headers }), true);
  assert.equal(admits(rule, { peer: BATCH, method: 'POST', path: '/public/x', headers }), true, 'second from entry, second to entry');
  assert.equal(admits(rule, { peer: ADMIN, method: 'GET', headers }), false, 'from fails');
  assert.equal(admits(rule, { peer: FRONTEND, method: 'POST', path: '/private', headers }), false, 'to fails');
  assert.equal(admits(rule, { peer: FRONTEND, method: 'GET', headers: ['x-a', '1'] }), false, 'one condition fails');
  // The fields of one from entry must all hold.
  const both: AuthzRule = { from: [{ namespaces: [{ exact: 'shop' }], notPrincipals: [{ exact: FRONTEND.principal }] }] };
  assert.equal(admits(both, { peer: FRONTEND }), false);
  assert.equal(admits(both, { peer: peer('shop', 'cart') }), true);
});

test('a decision is made once per rule: the same object comes back for every request it decides', () => {
  const a = compileAuthorizer(config([deny('d', { to: [{ methods: [{ exact: 'DELETE' }] }] })]));
  const first = a.decide('DELETE', '/x', FRONTEND, [], readRawHeader);
  assert.equal(a.decide('DELETE', '/y', BATCH, [], readRawHeader), first);
});
