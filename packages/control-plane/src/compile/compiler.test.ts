/**
 * The incremental compiler: counts snapshot builds (not time) to show that a change to a
 * service a proxy does not call costs that proxy nothing, and that proxies with the same
 * inputs share one build.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HelloSchema, ProxySnapshotSchema, parseResource, type AnyResource, type Hello, type ProxySnapshot } from '@weft/api';
import { Compiler } from './compiler.js';
import { buildMeshContext } from './mesh-context.js';
import { compileProxySnapshot } from './proxy-snapshot.js';
import { workloadRecordFromHello, type WorkloadRecord } from './workload-record.js';

const SERVICES = 20;
const PROXIES = 1000;

const service = (name: string): AnyResource => parseResource({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name } });

const hello = (i: number, extra: Partial<Hello> = {}): Hello =>
  HelloSchema.parse({
    type: 'hello',
    workload: `p-${i}`,
    service: `s${i % SERVICES}`,
    namespace: 'default',
    address: `10.${Math.floor(i / 250)}.${i % 250}.1`,
    port: 4143,
    appProtocol: 'http',
    // A spread of callers: each calls two services that depend on its index.
    upstreams: [`s${(i + 1) % SERVICES}`, `s${(i * 7 + 3) % SERVICES}`],
    ...extra,
  });

const proxies = Array.from({ length: PROXIES }, (_, i) => hello(i));
const baseResources: AnyResource[] = [...Array.from({ length: SERVICES }, (_, k) => service(`s${k}`)), service('lonely')];
const baseRecords: WorkloadRecord[] = proxies.map((p) => workloadRecordFromHello(p));
const lonelyRecord = (n: number): WorkloadRecord => ({ name: `lonely-${n}`, namespace: 'default', service: 'lonely', address: `10.9.9.${n}`, port: 4143, labels: {}, healthy: true, source: 'proxy' });

const lonelyRoute = parseResource({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'lonely' },
  spec: { parentRefs: [{ group: '', kind: 'Service', name: 'lonely' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/x' } }], backendRefs: [{ name: 'lonely', port: 80 }] }] },
});

const serveAll = (c: Compiler, list: readonly Hello[]): ProxySnapshot[] => list.map((p) => c.snapshotFor(p));

describe('Compiler', () => {
  test('1000 proxies cost no build when a service none of them calls changes', () => {
    const c = new Compiler(baseResources, [...baseRecords, lonelyRecord(1)]);
    const before = serveAll(c, proxies);
    const built = c.compileCount;
    assert.ok(built > 0 && built < PROXIES, `replicas with the same inputs share builds (${built} builds for ${PROXIES} proxies)`);

    c.update([...baseResources, lonelyRoute], [...baseRecords, lonelyRecord(1), lonelyRecord(2)]);
    const after = serveAll(c, proxies);
    assert.equal(c.compileCount, built, 'no proxy calls lonely: no snapshot is built again');
    after.forEach((s, i) => assert.equal(s, before[i], `proxy ${i} got another snapshot object`));
  });

  test('an endpoint change rebuilds only the callers of that service, and moves only endpointsVersion', () => {
    const c = new Compiler(baseResources, baseRecords);
    const before = serveAll(c, proxies);
    const built = c.compileCount;
    // p-3 serves s3; it goes unhealthy.
    c.update(baseResources, baseRecords.map((r) => (r.name === 'p-3' ? { ...r, healthy: false } : r)));
    const after = serveAll(c, proxies);
    const callsS3 = (p: Hello): boolean => p.upstreams.includes('s3');
    const distinctChanged = new Set<ProxySnapshot>();
    proxies.forEach((p, i) => {
      const [b, a] = [before[i], after[i]];
      assert.ok(a !== undefined && b !== undefined);
      if (callsS3(p)) {
        assert.equal(a.routesVersion, b.routesVersion, `${p.workload}: routes did not change`);
        assert.notEqual(a.endpointsVersion, b.endpointsVersion, `${p.workload}: endpoints changed`);
        distinctChanged.add(a);
      } else assert.equal(a, b, `${p.workload} does not call s3`);
    });
    assert.ok(distinctChanged.size > 0);
    assert.equal(c.compileCount - built, distinctChanged.size, 'one build per distinct new snapshot');
  });

  test('allServices proxies of one namespace share one build per change', () => {
    const edge = Array.from({ length: 10 }, (_, i) => hello(2000 + i, { service: 'edge', upstreams: [], allServices: true }));
    const records = [...baseRecords, ...edge.map((p) => workloadRecordFromHello(p))];
    const c = new Compiler(baseResources, records);
    serveAll(c, edge);
    assert.equal(c.compileCount, 1);
    c.update([...baseResources, lonelyRoute], records);
    const after = serveAll(c, edge);
    assert.equal(c.compileCount, 2, 'every service is an input of an allServices proxy: one more build, shared');
    assert.ok(after[0]?.services.some((s) => s.name === 'lonely' && s.routes.length === 1));
  });

  test('the cache forgets a proxy unseen for a whole generation', () => {
    const c = new Compiler(baseResources, baseRecords);
    const p = proxies[0] as Hello;
    c.snapshotFor(p);
    c.update(baseResources, baseRecords);
    c.snapshotFor(p); // seen in the second generation: kept
    c.update(baseResources, baseRecords);
    c.update(baseResources, baseRecords);
    assert.equal(c.compileCount, 1);
    c.snapshotFor(p); // unseen for a generation: built again
    assert.equal(c.compileCount, 2);
  });

  test('snapshots are frozen and the input is left as it was', () => {
    const resources = [...baseResources];
    const ctx = buildMeshContext({ resources, workloads: baseRecords });
    const s = compileProxySnapshot(ctx, proxies[0] as Hello);
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.services) && Object.isFrozen(s.services[0]));
    assert.throws(() => (s.services as unknown[]).push({}));
    assert.ok(resources.every((r) => !Object.isFrozen(r)), 'the caller\'s resources are not frozen');
  });

  test('a proxy whose Service is not registered yet gets its implied Service for inbound', () => {
    const ctx = buildMeshContext({ resources: [], workloads: [] });
    const s = compileProxySnapshot(ctx, hello(1, { service: 'newcomer', appProtocol: 'grpc', upstreams: ['nobody'] }));
    assert.deepEqual(
      s.services.map((x) => [x.name, x.ports]),
      [['newcomer', [{ port: 80, protocol: 'grpc', name: 'grpc' }]]],
    );
    assert.deepEqual(s.endpoints, {});
  });
});

describe('bad registry input', () => {
  test('a record whose service name is not a DNS label implies no Service and breaks no snapshot', () => {
    const bad: WorkloadRecord = { name: 'odd-1', namespace: 'default', service: 'Not_A_Label', address: '10.8.0.1', port: 4143, labels: {}, healthy: true, source: 'proxy' };
    const ctx = buildMeshContext({ resources: baseResources, workloads: [...baseRecords, bad] });
    assert.equal(ctx.services.has('Not_A_Label.default'), false);
    const s = compileProxySnapshot(ctx, hello(5, { allServices: true }));
    assert.doesNotThrow(() => ProxySnapshotSchema.parse(s));
  });
});
