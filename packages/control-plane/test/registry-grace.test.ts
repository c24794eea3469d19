/**
 * The registry's grace period: a proxy whose stream drops is unhealthy at once, its endpoint
 * stays with callers for the grace period and is withdrawn after it; a reconnect within the
 * grace period keeps it without any change for callers. After a control-plane restart,
 * proxies that were connected keep their endpoints while they reconnect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WEFT_API_VERSION, type Workload } from '@weft/api';
import { createTmpDir } from '@weft/testing';
import { Registry } from '../src/index.js';
import { eventually, helloFor, openStream, quiet, recordingLogger, startTestControlPlane } from './stream-fixture.js';

const GRACE = 200;

const newRegistry = (graceMs = GRACE): { registry: Registry; changes: () => number } => {
  let changes = 0;
  const registry = new Registry({ graceMs, logger: recordingLogger().logger, onChange: () => void changes++ });
  return { registry, changes: () => changes };
};

const conn = (id: string, name = 'api-1', service = 'api') => ({ id, hello: helloFor(name, service), connectedAt: new Date().toISOString() });

test('a dropped proxy: unhealthy at once, endpoint withdrawn after the grace period', async () => {
  const { registry, changes } = newRegistry();
  assert.deepEqual(registry.connect(conn('s1')), { ok: true });
  assert.equal(changes(), 1);
  assert.equal(registry.records()[0]?.healthy, true);
  registry.disconnect('s1', 'default', 'api-1');
  assert.equal(registry.entries()[0]?.state, 'grace');
  assert.equal(registry.records()[0]?.healthy, true, 'still an endpoint during the grace period');
  assert.equal(changes(), 1, 'callers see no change yet');
  await quiet(GRACE / 2);
  assert.equal(registry.records()[0]?.healthy, true);
  await eventually(() => registry.entries()[0]?.state === 'withdrawn', GRACE * 5);
  assert.equal(registry.records()[0]?.healthy, false);
  assert.equal(changes(), 2);
  registry.freeze();
});

test('a reconnect within the grace period keeps the endpoint, with no change for callers', async () => {
  const { registry, changes } = newRegistry();
  registry.connect(conn('s1'));
  registry.disconnect('s1', 'default', 'api-1');
  await quiet(GRACE / 2);
  registry.connect(conn('s2'));
  assert.equal(registry.entries()[0]?.state, 'connected');
  await quiet(GRACE * 2);
  assert.equal(registry.entries()[0]?.state, 'connected', 'the old timer did not fire');
  assert.equal(changes(), 1);
  // A late end of the replaced stream changes nothing.
  registry.disconnect('s1', 'default', 'api-1');
  assert.equal(registry.entries()[0]?.state, 'connected');
  registry.freeze();
});

test('a reconnect after withdrawal brings the endpoint back; a moved one counts as a change', async () => {
  const { registry, changes } = newRegistry(50);
  registry.connect(conn('s1'));
  registry.disconnect('s1', 'default', 'api-1');
  await eventually(() => registry.entries()[0]?.state === 'withdrawn');
  registry.connect(conn('s2'));
  assert.equal(registry.records()[0]?.healthy, true);
  assert.equal(changes(), 3);
  registry.connect({ ...conn('s3'), hello: helloFor('api-1', 'api', { port: 1234 }) });
  assert.equal(registry.records()[0]?.port, 1234);
  assert.equal(changes(), 4);
  registry.freeze();
});

test('a hello that cannot be a Workload is refused with the field', () => {
  const { registry } = newRegistry();
  const r = registry.connect({ ...conn('s1'), hello: helloFor('api-1', 'api', { labels: { 'bad key!': 'x' } }) });
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /labels/);
  assert.equal(registry.records().length, 0);
});

test('after a restart, workloads whose proxy was connected keep their endpoint for the restart grace period', async () => {
  let changes = 0;
  const stored = (name: string, connected: boolean): Workload => ({
    apiVersion: WEFT_API_VERSION,
    kind: 'Workload',
    metadata: { name, namespace: 'default', labels: { version: 'v1' }, annotations: {} },
    spec: { service: 'api', address: '127.0.0.1', port: 9000, inMesh: true, weight: 1 },
    status: { conditions: [], health: connected ? 'HEALTHY' : 'UNHEALTHY', proxy: { id: 'old', connected } },
  });
  const r2 = new Registry({ graceMs: GRACE, restartGraceMs: 150, logger: recordingLogger().logger, onChange: () => void changes++ });
  r2.restore([stored('live-1', true), stored('gone-1', false)]);
  assert.deepEqual(
    r2.entries().map((e) => [e.name, e.state, e.serving]),
    [
      ['gone-1', 'withdrawn', false],
      ['live-1', 'grace', true],
    ],
  );
  assert.equal(changes, 1, 'restoring is one change');
  await eventually(() => r2.entries().every((e) => e.state === 'withdrawn'), 2000);
  assert.equal(changes, 2, 'the withdrawal of live-1 is another');
  r2.freeze();
});

test('over the stream: callers keep a dropped endpoint for the grace period, then lose it', async (t) => {
  const { cp } = await startTestControlPlane(t, { graceMs: GRACE });
  const caller = openStream(t, cp.streamPort, { autoAck: true });
  caller.send(helloFor('web-1', 'web', { upstreams: ['api'] }));
  const api = openStream(t, cp.streamPort, { autoAck: true });
  api.send(helloFor('api-1', 'api'));
  const endpoints = (): number => caller.snapshots().at(-1)?.snapshot.endpoints['api.default']?.length ?? 0;
  await eventually(() => endpoints() === 1, 5000, 'caller sees api-1');
  await cp.settled();
  const pushes = caller.snapshots().length;

  // Drop and reconnect within the grace period: the caller gets nothing at all.
  api.close();
  await eventually(() => cp.workloads().find((w) => w.name === 'api-1')?.state === 'grace');
  const back = openStream(t, cp.streamPort, { autoAck: true });
  back.send(helloFor('api-1', 'api'));
  await eventually(() => cp.workloads().find((w) => w.name === 'api-1')?.state === 'connected');
  await quiet(GRACE * 2);
  assert.equal(caller.snapshots().length, pushes, 'no push for a blip');

  // Drop for good: unhealthy in the store at once, withdrawn from the caller after the grace period.
  const droppedAt = Date.now();
  back.close();
  await eventually(async () => {
    const w = (await cp.manager.get({ kind: 'Workload', namespace: 'default', name: 'api-1' })) as Workload | undefined;
    return w?.status?.health === 'UNHEALTHY' && w.status.proxy?.connected === false;
  }, 5000, 'stored as unhealthy');
  assert.equal(endpoints(), 1, 'still there during the grace period');
  await eventually(() => endpoints() === 0, 5000, 'withdrawn');
  assert.ok(Date.now() - droppedAt >= GRACE, 'not before the grace period');
  assert.equal(caller.snapshots().length, pushes + 1, 'one push: the withdrawal');
  const w = (await cp.manager.get({ kind: 'Workload', namespace: 'default', name: 'api-1' })) as Workload | undefined;
  await cp.settled();
  assert.equal(w?.status?.conditions.find((c) => c.type === 'Ready')?.status, 'False');
});

test('registrations are stored (Workloads with status, the implied Service) and survive a restart', async (t) => {
  const dir = await createTmpDir({ prefix: 'reg', t });
  const { cp } = await startTestControlPlane(t, { dataDir: dir.path, store: 'file' });
  const s = openStream(t, cp.streamPort, { autoAck: true });
  s.send(helloFor('reviews-1', 'reviews', { labels: { version: 'v2', zone: 'a' }, appProtocol: 'grpc' }));
  await eventually(() => cp.proxies()[0]?.inSync === true);
  await cp.settled();
  const w = (await cp.manager.get({ kind: 'Workload', namespace: 'default', name: 'reviews-1' })) as Workload | undefined;
  assert.ok(w !== undefined);
  assert.deepEqual(w.spec, { service: 'reviews', address: '127.0.0.1', port: helloFor('reviews-1', 'reviews').port, inMesh: true, weight: 1 });
  assert.deepEqual(w.metadata.labels, { version: 'v2', zone: 'a' });
  assert.equal(w.status?.health, 'HEALTHY');
  assert.equal(w.status?.proxy?.connected, true);
  assert.equal(w.status?.proxy?.id, cp.proxies()[0]?.id);
  assert.equal(w.status?.config?.acknowledgedVersion, cp.proxies()[0]?.ackedVersion);
  assert.equal(w.status?.conditions.find((c) => c.type === 'Ready')?.reason, 'Connected');
  const svc = await cp.manager.get({ kind: 'Service', namespace: 'default', name: 'reviews' });
  assert.equal(svc?.kind, 'Service');
  assert.deepEqual(svc?.kind === 'Service' ? svc.spec.ports : [], [{ name: 'grpc', port: 80, appProtocol: 'grpc' }]);

  // Restart on the same data dir: the workload keeps its endpoint while its proxy reconnects,
  // and a proxy that runs the current version is sent nothing.
  const version = cp.proxies()[0]?.ackedVersion;
  s.close();
  await cp.close();
  const { cp: again } = await startTestControlPlane(t, { dataDir: dir.path, store: 'file' });
  assert.deepEqual(again.workloads().map((x) => [x.name, x.state, x.serving]), [['reviews-1', 'grace', true]]);
  const back = openStream(t, again.streamPort, { autoAck: true });
  back.send(helloFor('reviews-1', 'reviews', { labels: { version: 'v2', zone: 'a' }, appProtocol: 'grpc', ...(version === undefined ? {} : { lastVersion: version }) }));
  await eventually(() => again.workloads()[0]?.state === 'connected');
  await quiet(200);
  assert.equal(back.snapshots().length, 0, 'in sync already: nothing pushed');
  assert.equal(again.proxies()[0]?.inSync, true);
});
