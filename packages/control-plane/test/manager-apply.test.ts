import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPRoute, Service } from '@weft/api';
import { mesh, newManager, rejection, route, service, storeContents } from './manager-fixtures.js';

const key = (name: string, kind = 'Service', namespace = 'default') => ({ kind, namespace, name });

describe('ResourceManager: apply, get, list, delete', () => {
  test('create applies defaults and writes the server fields; input status and server fields are ignored', async () => {
    const { manager, store } = newManager();
    const doc = {
      ...service('reviews'),
      metadata: { name: 'reviews', uid: 'forged', generation: 42, creationTimestamp: '2000-01-01T00:00:00Z' },
      status: { conditions: [{ type: 'Accepted', status: 'False', reason: 'Forged', lastTransitionTime: '2000-01-01T00:00:00Z' }] },
    };
    const { result, resource } = await manager.apply(doc);
    assert.equal(result, 'created');
    const s = resource as Service;
    assert.equal(s.metadata.namespace, 'default', 'namespace defaulted');
    assert.deepEqual(s.spec.ports, [{ port: 9080, appProtocol: 'http' }], 'port defaults applied');
    assert.equal(s.metadata.uid, 'uid-1');
    assert.equal(s.metadata.generation, 1);
    assert.equal(s.metadata.creationTimestamp, '2025-01-02T03:04:05Z');
    const item = await store.get(key('reviews'));
    assert.equal(s.metadata.resourceVersion, String(item?.modRevision), 'resourceVersion is the store modRevision');
    assert.deepEqual(
      s.status?.conditions.map((c) => [c.type, c.status, c.reason]),
      [['Accepted', 'True', 'Accepted']],
      'the forged status was replaced by the control plane',
    );
    assert.equal((item?.value['metadata'] as Record<string, unknown>)['resourceVersion'], undefined, 'resourceVersion is not stored in the value');
    assert.deepEqual(await manager.get(key('reviews')), resource);
  });

  test('generation follows spec changes only; an identical apply writes nothing', async () => {
    const { manager, store } = newManager();
    await manager.apply(service('reviews'));
    const rev = await store.revision();
    const again = await manager.apply(service('reviews'));
    assert.equal(again.result, 'unchanged');
    assert.equal(await store.revision(), rev, 'no write for an unchanged document');
    const labelled = await manager.apply(service('reviews', { labels: { team: 'books' } }));
    assert.equal(labelled.result, 'configured');
    assert.equal(labelled.resource.metadata.generation, 1, 'labels are not spec');
    const changed = await manager.apply(service('reviews', { port: 9090, labels: { team: 'books' } }));
    assert.equal(changed.result, 'configured');
    assert.equal(changed.resource.metadata.generation, 2);
    assert.equal(changed.resource.metadata.uid, 'uid-1', 'uid survives updates');
    assert.equal(changed.resource.metadata.creationTimestamp, '2025-01-02T03:04:05Z');
  });

  test('a spec written with and without its defaults is the same spec', async () => {
    const { manager } = newManager();
    await manager.apply(service('reviews'));
    const explicit = { ...service('reviews'), spec: { ports: [{ port: 9080, appProtocol: 'http' }] } };
    assert.equal((await manager.apply(explicit)).result, 'unchanged');
  });

  test('the output of get can be applied back as is (status and server fields included)', async () => {
    const { manager } = newManager();
    const { resource } = await manager.apply(route('reviews', 'reviews', ['reviews']));
    const back = await manager.apply(JSON.parse(JSON.stringify(resource)));
    assert.equal(back.result, 'unchanged');
  });

  test('a stale resourceVersion is refused with 409 and changes nothing; the current one is accepted', async () => {
    const { manager, store } = newManager();
    const first = await manager.apply(service('reviews'));
    const rv1 = first.resource.metadata.resourceVersion ?? '';
    const second = await manager.apply(service('reviews', { port: 1000, resourceVersion: rv1 }));
    assert.equal(second.result, 'configured');
    const before = await storeContents(store);
    const err = await rejection(manager.apply(service('reviews', { port: 2000, resourceVersion: rv1 })));
    assert.equal(err.code, 'WEFT_ERR_STORE_CONFLICT');
    assert.match(err.message, /resourceVersion \d+ is stale, the stored one is \d+/);
    assert.deepEqual(await storeContents(store), before);
  });

  test('a resourceVersion for a resource that does not exist is a 409 too', async () => {
    const { manager, store } = newManager();
    const err = await rejection(manager.apply(service('ghost', { resourceVersion: '7' })));
    assert.equal(err.code, 'WEFT_ERR_STORE_CONFLICT');
    assert.equal((await store.list()).items.length, 0);
  });

  test('two concurrent updates from the same resourceVersion: exactly one wins, the other gets 409', async () => {
    for (let round = 0; round < 20; round++) {
      const { manager } = newManager();
      const { resource } = await manager.apply(service('reviews'));
      const rv = resource.metadata.resourceVersion ?? '';
      const results = await Promise.allSettled([
        manager.apply(service('reviews', { port: 1111, resourceVersion: rv })),
        manager.apply(service('reviews', { port: 2222, resourceVersion: rv })),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: one winner`);
      assert.equal(lost.length, 1);
      assert.equal((lost[0]?.reason as { code?: string }).code, 'WEFT_ERR_STORE_CONFLICT');
      const stored = (await manager.get(key('reviews'))) as Service;
      const winner = (won[0] as PromiseFulfilledResult<{ resource: Service }>).value.resource;
      assert.deepEqual(stored.spec.ports, winner.spec.ports, 'the stored spec is the winner\'s');
      assert.equal(stored.metadata.generation, 2);
    }
  });

  test('without resourceVersion, concurrent applies are last-writer-wins and keep generation consistent', async () => {
    const { manager } = newManager();
    await manager.apply(service('reviews'));
    const results = await Promise.all([1, 2, 3, 4].map((i) => manager.apply(service('reviews', { port: 1000 + i }))));
    assert.ok(results.every((r) => r.result === 'configured'));
    const stored = (await manager.get(key('reviews'))) as Service;
    assert.equal(stored.metadata.generation, 5, 'each spec change counted once');
  });

  test('list by namespace, across namespaces, and of a cluster-scoped kind', async () => {
    const { manager } = newManager();
    await manager.applyBatch([service('a'), service('b', { namespace: 'shop' }), service('c', { namespace: 'shop' }), mesh()]);
    assert.deepEqual((await manager.list('Service', 'shop')).items.map((r) => r.metadata.name), ['b', 'c']);
    assert.deepEqual((await manager.list('Service')).items.map((r) => r.metadata.name), ['a', 'b', 'c']);
    const meshes = await manager.list('Mesh');
    assert.deepEqual(meshes.items.map((r) => r.metadata.name), ['default']);
    assert.ok(await manager.get({ kind: 'Mesh', namespace: '', name: 'default' }));
    assert.equal(meshes.revision, 4);
  });

  test('delete: 404 when absent, 409 on a stale resourceVersion, else deleted and returned', async () => {
    const { manager, store } = newManager();
    assert.equal((await rejection(manager.delete(key('nope')))).code, 'WEFT_ERR_API_NOT_FOUND');
    const { resource } = await manager.apply(service('reviews'));
    await manager.apply(service('reviews', { port: 1 }));
    const stale = await rejection(manager.delete(key('reviews'), { resourceVersion: resource.metadata.resourceVersion ?? '' }));
    assert.equal(stale.code, 'WEFT_ERR_STORE_CONFLICT');
    assert.ok(await store.get(key('reviews')), 'still there');
    const current = (await manager.get(key('reviews')))?.metadata.resourceVersion ?? '';
    const deleted = await manager.delete(key('reviews'), { resourceVersion: current });
    assert.equal(deleted.metadata.name, 'reviews');
    assert.equal(await manager.get(key('reviews')), undefined);
  });

  test('keys are checked: unknown kind 404, malformed names 400, namespaces only for namespaced kinds', async () => {
    const { manager } = newManager();
    assert.equal((await rejection(manager.get(key('x', 'Gadget')))).code, 'WEFT_ERR_API_NOT_FOUND');
    assert.equal((await rejection(manager.get(key('Not_A_Name')))).code, 'WEFT_ERR_API_BAD_REQUEST');
    assert.equal((await rejection(manager.get(key('x', 'Service', '')))).code, 'WEFT_ERR_API_BAD_REQUEST');
    assert.equal((await rejection(manager.get({ kind: 'Mesh', namespace: 'default', name: 'default' }))).code, 'WEFT_ERR_API_BAD_REQUEST');
    assert.equal((await rejection(manager.list('Service', 'Bad Namespace'))).code, 'WEFT_ERR_API_BAD_REQUEST');
  });

  test('a route keeps its Gateway API shape and defaults through the store', async () => {
    const { manager } = newManager();
    const r = (await manager.apply(route('reviews', 'reviews', ['reviews-v1:90', 'reviews-v2:10']))).resource as HTTPRoute;
    assert.deepEqual(r.spec.rules[0]?.matches, [{ path: { type: 'PathPrefix', value: '/' } }]);
    assert.deepEqual(r.spec.rules[0]?.backendRefs?.map((b) => [b.name, b.weight]), [['reviews-v1', 90], ['reviews-v2', 10]]);
  });
});
