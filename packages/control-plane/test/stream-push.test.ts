/**
 * Pushes: after a change, exactly the proxies whose snapshot version changed get one
 * message (counted); a proxy that already runs the current version gets nothing; ACKs and
 * NACKs are recorded; a proxy that does not read its stream gets the newest snapshot only.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GATEWAY_API_VERSION, type Workload } from '@weft/api';
import { eventually, helloFor, openStream, quiet, startTestControlPlane } from './stream-fixture.js';

/** An HTTPRoute on Service `parent` sending `/x` to `parent` itself with `weight` (any change of weight changes callers' snapshots). */
const route = (parent: string, weight: number): object => ({
  apiVersion: GATEWAY_API_VERSION,
  kind: 'HTTPRoute',
  metadata: { name: `${parent}-route` },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: parent }],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: [{ name: parent, port: 80, weight }] }],
  },
});

test('a change pushes to exactly the proxies whose snapshot changed', async (t) => {
  const { cp } = await startTestControlPlane(t);
  const a = openStream(t, cp.streamPort, { autoAck: true });
  a.send(helloFor('web-1', 'web', { upstreams: ['api'] }));
  const b = openStream(t, cp.streamPort, { autoAck: true });
  b.send(helloFor('api-1', 'api'));
  const c = openStream(t, cp.streamPort, { autoAck: true });
  c.send(helloFor('batch-1', 'batch'));
  await eventually(() => cp.proxies().length === 3 && cp.proxies().every((p) => p.inSync), 5000, 'three proxies in sync');
  await cp.settled();
  await quiet(100);
  const counts = (): number[] => [a, b, c].map((s) => s.snapshots().length);
  const before = counts();
  assert.ok(a.snapshots().at(-1)?.snapshot.endpoints['api.default']?.length === 1, 'web sees the api endpoint');

  // A route on api changes what its callers run (web), not api itself nor batch.
  await cp.manager.apply(route('api', 5));
  await a.waitFor(() => a.snapshots().length > (before[0] ?? 0));
  await cp.settled();
  await quiet(200);
  assert.deepEqual(counts(), [(before[0] ?? 0) + 1, before[1], before[2]]);

  // A second batch instance: nobody calls batch, so nobody's snapshot changes but its own.
  const before2 = counts();
  const d = openStream(t, cp.streamPort, { autoAck: true });
  d.send(helloFor('batch-2', 'batch'));
  await d.waitFor((m) => m.type === 'snapshot');
  await cp.settled();
  await quiet(200);
  assert.deepEqual(counts(), before2);

  // A second api instance: web gets the new endpoint, once; api and batch get nothing.
  const e = openStream(t, cp.streamPort, { autoAck: true });
  e.send(helloFor('api-2', 'api'));
  await a.waitFor(() => (a.snapshots().at(-1)?.snapshot.endpoints['api.default']?.length ?? 0) === 2);
  await cp.settled();
  await quiet(200);
  assert.deepEqual(counts(), [(before2[0] ?? 0) + 1, before2[1], before2[2]]);
});

test('a proxy that already runs the current version is not sent it again', async (t) => {
  const { cp } = await startTestControlPlane(t);
  const first = openStream(t, cp.streamPort, { autoAck: true });
  first.send(helloFor('web-1', 'web'));
  const m = await first.waitFor((x) => x.type === 'snapshot');
  assert.equal(m.type, 'snapshot');
  const version = m.type === 'snapshot' ? m.version : '';
  await eventually(() => cp.proxies()[0]?.inSync === true);
  first.close();
  await eventually(() => cp.proxies().length === 0);

  const again = openStream(t, cp.streamPort, { autoAck: true });
  again.send(helloFor('web-1', 'web', { lastVersion: version }));
  await eventually(() => cp.proxies().length === 1);
  await quiet(300);
  assert.equal(again.snapshots().length, 0, 'nothing sent');
  assert.equal(cp.proxies()[0]?.ackedVersion, version);
  assert.equal(cp.proxies()[0]?.inSync, true);

  const stale = openStream(t, cp.streamPort, { autoAck: true });
  stale.send(helloFor('web-1', 'web', { lastVersion: 'old/old' }));
  const fresh = await stale.waitFor((x) => x.type === 'snapshot');
  assert.equal(fresh.type === 'snapshot' ? fresh.version : '', version);
});

test('ACK and NACK are recorded per proxy and in its Workload status', async (t) => {
  const { cp } = await startTestControlPlane(t);
  const s = openStream(t, cp.streamPort);
  s.send(helloFor('web-1', 'web', { upstreams: ['api'] }));
  const v1 = await s.waitFor((x) => x.type === 'snapshot');
  const version1 = v1.type === 'snapshot' ? v1.version : '';
  s.send({ type: 'nack', version: version1, error: 'snapshot.limits: cannot load: boom' });
  await eventually(() => cp.proxies()[0]?.nack?.version === version1, 5000, 'nack recorded');
  assert.equal(cp.proxies()[0]?.inSync, false);
  const workload = async (): Promise<Workload | undefined> => (await cp.manager.get({ kind: 'Workload', namespace: 'default', name: 'web-1' })) as Workload | undefined;
  await eventually(async () => (await workload())?.status?.config?.rejectedVersion === version1, 5000, 'rejection stored');
  assert.equal((await workload())?.status?.config?.rejectedReason, 'snapshot.limits: cannot load: boom');
  assert.equal((await workload())?.status?.config?.acknowledgedVersion, undefined);

  // A new version (api appears), acknowledged: the refusal is history.
  await cp.manager.apply({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'api' } });
  const v2 = await s.waitFor((x) => x.type === 'snapshot' && x.version !== version1);
  const version2 = v2.type === 'snapshot' ? v2.version : '';
  s.send({ type: 'ack', version: version2 });
  await eventually(() => cp.proxies()[0]?.inSync === true);
  await eventually(async () => (await workload())?.status?.config?.acknowledgedVersion === version2, 5000, 'ack stored');
  const status = (await workload())?.status;
  assert.equal(status?.config?.rejectedVersion, undefined);
  assert.equal(status?.health, 'HEALTHY');
  assert.equal(status?.proxy?.connected, true);
});

test('a proxy that does not read its stream gets the newest snapshot, not a queue', async (t) => {
  const { cp } = await startTestControlPlane(t, { compileDelayMs: 1 });
  // Fifty Services, so that each snapshot of an allServices proxy is tens of KB.
  await cp.manager.applyBatch(Array.from({ length: 50 }, (_, i) => ({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: i === 0 ? 'api' : `svc-${i}` } })));
  // A tiny flow-control window, and a paused reader: the server's writes back up at once.
  const slow = openStream(t, cp.streamPort, { settings: { initialWindowSize: 256 } });
  slow.send(helloFor('slow-1', 'slow', { allServices: true }));
  await eventually(() => cp.proxies().length === 1);
  slow.stream.pause();
  const changes = 40;
  for (let w = 1; w <= changes; w++) {
    await cp.manager.apply(route('api', w));
    await cp.settled();
  }
  const state = cp.proxies()[0];
  assert.ok(state !== undefined);
  assert.ok(state.coalesced >= changes - 10, `snapshots were coalesced (${JSON.stringify(state)})`);
  assert.ok(state.pushes <= 10, `a few writes (${state.pushes}) for ${changes} changes`);
  slow.stream.resume();
  // The newest snapshot, waiting, is written once the proxy reads; then nothing more.
  await eventually(() => {
    const now = cp.proxies()[0];
    return now !== undefined && slow.snapshots().at(-1)?.version === now.sentVersion && slow.snapshots().length === now.pushes;
  }, 10_000, 'the newest snapshot arrives');
  const final = cp.proxies()[0];
  assert.ok(final !== undefined && final.pushes <= state.pushes + 1);
  const last = slow.snapshots().at(-1)?.snapshot as unknown as { services: { name: string; routes: { backendRefs: { weight: number }[] }[] }[] };
  assert.equal(last.services.find((s) => s.name === 'api')?.routes[0]?.backendRefs[0]?.weight, changes, 'the last snapshot has the last change');
});

test('compiled statuses are written back once, stamped, and only when they change', async (t) => {
  const { cp } = await startTestControlPlane(t);
  await cp.manager.apply({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'api' } });
  const r = {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: { name: 'api-route' },
    spec: { parentRefs: [{ group: '', kind: 'Service', name: 'api' }], rules: [{ backendRefs: [{ name: 'missing', port: 80 }] }] },
  };
  await cp.manager.apply(r);
  const key = { kind: 'HTTPRoute', namespace: 'default', name: 'api-route' };
  type RouteStatus = { conditions: { type: string; status: string; reason: string; lastTransitionTime: string }[]; parents: { conditions: { type: string; reason: string }[] }[] };
  const status = async (): Promise<RouteStatus | undefined> => (await cp.manager.get(key))?.status as RouteStatus | undefined;
  // The manager's admission writes its own conditions first; the compiler's add the per-parent statuses.
  await eventually(async () => ((await status())?.parents.length ?? 0) > 0, 5000, 'the compiler status written');
  assert.ok((await status())?.conditions.some((c) => c.type === 'ResolvedRefs' && c.reason === 'BackendNotFound'));
  const s1 = await status();
  assert.ok(s1?.parents[0]?.conditions.some((c) => c.reason === 'BackendNotFound'), `per-parent status too: ${JSON.stringify(s1)}`);
  assert.ok(s1?.conditions.every((c) => c.lastTransitionTime !== ''), 'stamped');
  await cp.settled();
  const revision = await cp.store.revision();
  await quiet(300);
  assert.equal(await cp.store.revision(), revision, 'no write loop');

  // An unrelated change compiles again, but writes no status of the route.
  const before = (await cp.manager.get(key))?.metadata.resourceVersion;
  await cp.manager.apply({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'other' } });
  await cp.settled();
  await quiet(100);
  assert.equal((await cp.manager.get(key))?.metadata.resourceVersion, before);

  // The missing backend appears: the route's status changes, with a new transition time.
  await cp.manager.apply({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'missing' } });
  await eventually(async () => (await status())?.conditions.find((c) => c.type === 'ResolvedRefs')?.status === 'True', 5000, 'ResolvedRefs True written');
});
