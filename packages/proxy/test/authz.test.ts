/**
 * Authorization end to end, with real `weft proxy` processes from snapshot files and static
 * mutual TLS from the test PKI: caller proxies `client` and `intruder` (their certificates
 * name `spiffe://test.local/ns/default/sa/<name>`) -> server proxy of `svc` (policies in
 * its snapshot's `inbound.authorization`) -> an HTTP/1.1 app that counts what reaches it;
 * and the same for gRPC: client -> server proxy of `grpcsvc` -> a gRPC app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  ECHO_METHODS,
  createTestPki,
  createTmpDir,
  freePort,
  grpcEchoClient,
  startGrpcEcho,
  startHttp1Echo,
  type GrpcEcho,
  type Http1Echo,
  type TestPki,
  type TmpDir,
} from '@weft/testing';
import { adminGet, eventually, metric, type ProxyProcess, snapshot, startProxy, type TestContext, tlsTransport, waitForVersion, upstreamPortOf } from './http1-mesh-fixture.js';

const TD = 'test.local';
const principal = (name: string): string => `spiffe://${TD}/ns/default/sa/${name}`;

/** `svc`'s authorization: DENY /admin*; ALLOW GET from service `client` (rules[1]); rules[0] admits nobody here. */
const SVC_POLICIES = {
  defaultAction: 'ALLOW',
  policies: [
    { name: 'default/no-admin', action: 'DENY', rules: [{ to: [{ paths: [{ prefix: '/admin' }] }] }] },
    {
      name: 'default/client-reads',
      action: 'ALLOW',
      rules: [
        { from: [{ principals: [{ exact: principal('intruder') }] }], to: [{ methods: [{ exact: 'DELETE' }] }] },
        { from: [{ services: [{ name: { exact: 'client' }, namespace: { exact: 'default' } }] }], to: [{ methods: [{ exact: 'GET' }] }] },
      ],
    },
  ],
};

/** `grpcsvc`'s: `client` may not call Unary; any authenticated caller may call the rest. */
const GRPC_POLICIES = {
  defaultAction: 'DENY',
  policies: [
    { name: 'default/no-unary', action: 'DENY', rules: [{ from: [{ principals: [{ exact: principal('client') }] }], to: [{ paths: [{ exact: ECHO_METHODS.Unary.path }] }] }] },
    { name: 'default/mesh-callers', action: 'ALLOW', rules: [{ from: [{ principals: [{ any: true }] }] }] },
  ],
};

interface World {
  readonly pki: TestPki;
  readonly dir: TmpDir;
  readonly app: Http1Echo;
  readonly grpcApp: GrpcEcho;
  readonly server: ProxyProcess;
  readonly serverSnapshot: (inbound: object, routesVersion: string) => object;
  readonly grpcServer: ProxyProcess;
  readonly serverPort: number;
  /** Upstream listeners of the caller proxies. */
  readonly client: { svc: number; grpcsvc: number };
  readonly intruder: { svc: number };
}

let world: World | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
const ctx: TestContext = { after: (fn) => cleanups.push(fn) };

before(async () => {
  const dir = await createTmpDir({ prefix: 'authz' });
  cleanups.push(() => dir.remove());
  const pki = await createTestPki(dir.join('pki'), ['client', 'intruder', 'server'], { trustDomain: TD });
  const app = await startHttp1Echo({ name: 'svc-app' });
  cleanups.push(app.close);
  const grpcApp = await startGrpcEcho({ name: 'grpc-app' });
  cleanups.push(grpcApp.close);
  const [serverPort, grpcPort] = [await freePort(), await freePort()];
  // PERMISSIVE, so that a plaintext caller reaches authorization (STRICT would refuse it first).
  const serverTransport = { ...tlsTransport(pki, 'server'), mtlsMode: 'PERMISSIVE' };
  const serverSnapshot = (inbound: object, routesVersion: string): object => ({ ...snapshot({ routesVersion }), transport: serverTransport, inbound: { authorization: inbound } });
  const callerSnapshot = (name: string): object =>
    snapshot({
      services: [
        { name: 'svc', ports: [{ port: 9080, protocol: 'http' }] },
        { name: 'grpcsvc', ports: [{ port: 50051, protocol: 'grpc' }] },
      ],
      endpoints: { 'svc.default': [{ address: '127.0.0.1', port: serverPort }], 'grpcsvc.default': [{ address: '127.0.0.1', port: grpcPort }] },
      transport: tlsTransport(pki, name),
    });
  const [server, grpcServer, client, intruder] = await Promise.all([
    startProxy(ctx, dir, serverSnapshot(SVC_POLICIES, 'r1'), ['--service', 'svc', '--port', String(serverPort), '--app-port', String(app.port)]),
    startProxy(ctx, dir, { ...serverSnapshot(GRPC_POLICIES, 'r1'), transport: tlsTransport(pki, 'server') }, [
      '--service',
      'grpcsvc',
      '--port',
      String(grpcPort),
      '--app-port',
      String(grpcApp.port),
      '--app-protocol',
      'grpc',
    ]),
    startProxy(ctx, dir, callerSnapshot('client'), ['--service', 'client', '--upstream', 'svc:0', '--upstream', 'grpcsvc:0']),
    startProxy(ctx, dir, callerSnapshot('intruder'), ['--service', 'intruder', '--upstream', 'svc:0']),
  ]);
  world = {
    pki,
    dir,
    app,
    grpcApp,
    server,
    serverSnapshot,
    grpcServer,
    serverPort,
    client: { svc: upstreamPortOf(client, 'svc'), grpcsvc: upstreamPortOf(client, 'grpcsvc') },
    intruder: { svc: upstreamPortOf(intruder, 'svc') },
  };
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

const w = (): World => {
  assert.ok(world !== undefined, 'the mesh is started before the tests');
  return world;
};

interface Answer {
  readonly status: number;
  readonly error: string;
  readonly servedBy: string;
}

const call = async (port: number, path: string, init: RequestInit = {}): Promise<Answer> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return { status: res.status, error: res.headers.get('x-weft-error') ?? '', servedBy: res.headers.get('x-served-by') ?? '' };
};

/** The value of the first metric line that starts with `name{` and holds every label given. */
describe('authorization in the proxy', { timeout: 90_000 }, () => {
  test('HTTP/1.1: allowed calls reach the app; denied ones get 403 naming hop, policy and rule, and never reach it', async () => {
    const { app, client, intruder, serverPort } = w();
    const before = app.requests;

    const ok = await call(client.svc, '/hello');
    assert.equal(ok.status, 200, ok.error);
    assert.equal(ok.servedBy, 'svc-app');

    const admin = await call(client.svc, '/admin/users?x=1');
    assert.equal(admin.status, 403);
    assert.match(admin.error, /^WEFT_ERR_AUTHZ_DENIED \(RBAC\) at inbound proxy=svc\.default service=svc\.default: /);
    assert.match(admin.error, /denied by AuthorizationPolicy default\/no-admin rules\[0\] \(action DENY\)/);
    assert.match(admin.error, /GET \/admin\/users\?x=1 from spiffe:\/\/test\.local\/ns\/default\/sa\/client$/);

    // A dot segment does not dodge the DENY rule.
    assert.equal((await call(client.svc, '/public/../admin')).status, 403);

    const post = await call(client.svc, '/hello', { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(post.status, 403);
    assert.match(post.error, /no ALLOW policy matched \(ALLOW policies that apply: default\/client-reads\)/);

    const other = await call(intruder.svc, '/hello');
    assert.equal(other.status, 403);
    assert.match(other.error, /no ALLOW policy matched.* from spiffe:\/\/test\.local\/ns\/default\/sa\/intruder$/);

    // Straight to the mesh port in plaintext: no identity, so no rule on services matches.
    const plain = await call(serverPort, '/hello');
    assert.equal(plain.status, 403);
    assert.match(plain.error, /no ALLOW policy matched.* from a caller without mesh identity \(plaintext\)$/);

    assert.equal(app.requests - before, 1, 'only the allowed request reached the app');
  });

  test('the denials are counted: istio_requests_total with 403 and RBAC, and weft_proxy_authz_denied_total', async () => {
    const { server } = w();
    // The previous test made: 2 DENY-policy denials (/admin/users, /public/../admin), 3 without a matching ALLOW.
    await eventually('the server proxy counts the denials', async () => {
      const text = (await adminGet(server, '/metrics')).text;
      return metric(text, 'istio_requests_total', { reporter: 'destination', response_code: '403', response_flags: 'RBAC' }) === 5;
    });
    const text = (await adminGet(server, '/metrics')).text;
    assert.equal(metric(text, 'weft_proxy_authz_denied_total', { policy: 'default/no-admin', reason: 'deny_policy' }), 2);
    assert.equal(metric(text, 'weft_proxy_authz_denied_total', { policy: 'none', reason: 'no_allow_match' }), 3);
    assert.equal(metric(text, 'istio_requests_total', { reporter: 'destination', response_code: '200' }), 1);
  });

  test('gRPC through both proxies: a denied call gets PERMISSION_DENIED, an allowed one goes through', async () => {
    const { client, grpcApp } = w();
    const grpc = grpcEchoClient(`127.0.0.1:${client.grpcsvc}`);
    try {
      const before = grpcApp.calls;
      const denied = await grpc.unary({ message: 'hi' });
      assert.equal(denied.code, status.PERMISSION_DENIED, denied.details);
      assert.match(denied.details, /WEFT_ERR_AUTHZ_DENIED \(RBAC\) at inbound proxy=grpcsvc\.default/);
      assert.match(denied.details, /AuthorizationPolicy default\/no-unary rules\[0\]/);
      assert.match(denied.details, /from spiffe:\/\/test\.local\/ns\/default\/sa\/client/);
      // Allowed only because the caller's identity was read from its certificate (the
      // mesh default is DENY and the ALLOW rule needs an authenticated caller).
      const allowed = await grpc.serverStream({ message: 'hi', count: 3 });
      assert.equal(allowed.code, status.OK, allowed.details);
      assert.equal(allowed.replies.length, 3);
      assert.equal(grpcApp.calls - before, 1, 'the denied call never reached the app');
    } finally {
      grpc.close();
    }
  });

  test('the gRPC denial is counted with its grpc status', async () => {
    const { grpcServer } = w();
    await eventually('the gRPC server proxy counts the denial', async () => {
      const text = (await adminGet(grpcServer, '/metrics')).text;
      return metric(text, 'istio_requests_total', { reporter: 'destination', response_flags: 'RBAC', grpc_response_status: '7' }) === 1;
    });
    const text = (await adminGet(grpcServer, '/metrics')).text;
    assert.equal(metric(text, 'weft_proxy_authz_denied_total', { policy: 'default/no-unary', reason: 'deny_policy' }), 1);
  });

  test('a new config replaces the authorization: without the ALLOW policy the intruder gets through', async () => {
    const { server, serverSnapshot, intruder, app } = w();
    assert.equal((await call(intruder.svc, '/hello')).status, 403);
    await server.writeConfig(serverSnapshot({ defaultAction: 'ALLOW', policies: [SVC_POLICIES.policies[0]] }, 'r2'));
    await waitForVersion(server, 'r2/e1');
    const before = app.requests;
    assert.equal((await call(intruder.svc, '/hello')).status, 200);
    assert.equal((await call(intruder.svc, '/admin')).status, 403, 'the DENY policy still holds');
    assert.equal(app.requests - before, 1);
  });
});
