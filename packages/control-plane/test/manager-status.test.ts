import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnyResource, HTTPRoute } from '@weft/api';
import { destinationPolicy, newManager, rejection, route, service } from './manager-fixtures.js';

const cond = (r: AnyResource | undefined, type: string): { status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number } | undefined =>
  (r?.status as { conditions?: { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }[] } | undefined)?.conditions?.find((c) => c.type === type);

const routeKey = { kind: 'HTTPRoute', namespace: 'default', name: 'reviews' };

describe('ResourceManager: references become conditions, not rejections', () => {
  test('a route to Services that do not exist is stored, Accepted, with ResolvedRefs False naming each missing one', async () => {
    const { manager } = newManager();
    const { resource } = await manager.apply(route('reviews', 'reviews', ['reviews-v1:90', 'reviews-v2:10']));
    assert.equal(cond(resource, 'Accepted')?.status, 'True');
    const resolved = cond(resource, 'ResolvedRefs');
    assert.equal(resolved?.status, 'False');
    assert.equal(resolved?.reason, 'NoMatchingParent', 'the first missing reference is the parent');
    assert.equal(
      resolved?.message,
      'spec.parentRefs[0]: Service default/reviews does not exist; spec.rules[0].backendRefs[0]: Service default/reviews-v1 does not exist; spec.rules[0].backendRefs[1]: Service default/reviews-v2 does not exist',
    );
    assert.equal(resolved?.observedGeneration, 1);
  });

  test('resources of one batch see each other, whatever their order', async () => {
    const { manager } = newManager();
    const [r] = await manager.applyBatch([route('reviews', 'reviews', ['reviews']), service('reviews')]);
    assert.equal(cond(r?.resource, 'ResolvedRefs')?.status, 'True');
  });

  test('creating the missing Service resolves the route; deleting it unresolves it again', async () => {
    const { manager, clock } = newManager();
    await manager.applyBatch([route('reviews', 'reviews', ['reviews']), service('reviews')]);
    await manager.apply(route('reviews', 'reviews', ['reviews', 'ratings']));
    assert.equal(cond(await manager.get(routeKey), 'ResolvedRefs')?.reason, 'BackendNotFound');
    clock.advance(60_000);
    await manager.apply(service('ratings'));
    const resolved = cond(await manager.get(routeKey), 'ResolvedRefs');
    assert.equal(resolved?.status, 'True');
    assert.equal(resolved?.lastTransitionTime, '2025-01-02T03:05:05Z', 'stamped when it turned');
    await manager.delete({ kind: 'Service', namespace: 'default', name: 'ratings' });
    const after = cond(await manager.get(routeKey), 'ResolvedRefs');
    assert.equal(after?.status, 'False');
    assert.match(after?.message ?? '', /Service default\/ratings does not exist/);
  });

  test('a policy with a missing target and a subset of a missing Service say so', async () => {
    const { manager } = newManager();
    const [p, s] = await manager.applyBatch([destinationPolicy('dp', 'nowhere'), service('reviews-v2', { subsetOf: 'reviews' })]);
    assert.deepEqual([cond(p?.resource, 'ResolvedRefs')?.reason, cond(p?.resource, 'ResolvedRefs')?.message], ['TargetNotFound', 'spec.targetRef: Service default/nowhere does not exist']);
    assert.equal(cond(s?.resource, 'ResolvedRefs')?.reason, 'ParentNotFound');
    assert.equal(cond(s?.resource, 'Accepted')?.status, 'True');
  });

  test('with refreshDependents off, dependents keep their conditions until someone (the compiler) rewrites them', async () => {
    const { manager } = newManager({ refreshDependents: false });
    await manager.apply(route('reviews', 'reviews', ['reviews']));
    await manager.apply(service('reviews'));
    assert.equal(cond(await manager.get(routeKey), 'ResolvedRefs')?.status, 'False');
  });
});

describe('ResourceManager.setStatus', () => {
  test('sets conditions without changing generation, stamps transitions, and writes nothing when unchanged', async () => {
    const { manager, store, clock } = newManager();
    await manager.apply(service('reviews'));
    await manager.apply(route('reviews', 'reviews', ['reviews']));
    clock.advance(1000);
    const conflicted = { type: 'Accepted', status: 'False' as const, reason: 'Conflicted', message: 'shadowed by route a', observedGeneration: 1 };
    const r1 = await manager.setStatus(routeKey, [conflicted]);
    assert.equal(r1?.metadata.generation, 1);
    assert.deepEqual(cond(r1, 'Accepted'), { ...conflicted, lastTransitionTime: '2025-01-02T03:04:06Z' });
    assert.equal(cond(r1, 'ResolvedRefs')?.status, 'True', 'merge keeps the other types');
    const rev = await store.revision();
    clock.advance(1000);
    const r2 = await manager.setStatus(routeKey, [conflicted]);
    assert.equal(await store.revision(), rev, 'an identical status is not written');
    assert.equal(cond(r2, 'Accepted')?.lastTransitionTime, '2025-01-02T03:04:06Z');
    const r3 = await manager.setStatus(routeKey, [{ ...conflicted, observedGeneration: 2 }]);
    assert.equal(cond(r3, 'Accepted')?.lastTransitionTime, '2025-01-02T03:04:06Z', 'only status, reason or message changes move the transition time');
  });

  test('replace mode, route parents and extra fields', async () => {
    const { manager } = newManager();
    await manager.apply(route('reviews', 'reviews', ['reviews']));
    const parentRef = { group: '', kind: 'Service', name: 'reviews' };
    const r = (await manager.setStatus(routeKey, {
      mode: 'replace',
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      parents: [{ parentRef, controllerName: 'weft.dev/control-plane', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }] }],
    })) as HTTPRoute;
    assert.deepEqual(r.status?.conditions.map((c) => c.type), ['Accepted'], 'replace drops the other types');
    assert.equal(r.status?.parents[0]?.conditions[0]?.lastTransitionTime, '2025-01-02T03:04:05Z');
    await manager.apply({ apiVersion: 'weft.dev/v1alpha1', kind: 'Workload', metadata: { name: 'w1' }, spec: { service: 'reviews', address: '127.0.0.1', port: 4143 } });
    const w = await manager.setStatus({ kind: 'Workload', namespace: 'default', name: 'w1' }, { conditions: [{ type: 'Ready', status: 'True', reason: 'Connected' }], fields: { health: 'HEALTHY' } });
    assert.equal((w?.status as { health?: string } | undefined)?.health, 'HEALTHY');
  });

  test('a user apply keeps the status the control plane wrote while the spec stays the same', async () => {
    const { manager } = newManager();
    await manager.apply(route('reviews', 'reviews', ['reviews']));
    await manager.setStatus(routeKey, [{ type: 'PartiallyInvalid', status: 'True', reason: 'UnsupportedValue', message: 'x' }]);
    const same = await manager.apply(route('reviews', 'reviews', ['reviews']));
    assert.equal(same.result, 'unchanged');
    assert.equal(cond(same.resource, 'PartiallyInvalid')?.status, 'True');
    const changed = await manager.apply(route('reviews', 'reviews', ['other']));
    assert.equal(cond(changed.resource, 'PartiallyInvalid')?.status, 'True', 'kept, with its old observedGeneration');
    assert.equal(cond(changed.resource, 'Accepted')?.observedGeneration, 2, 'the manager re-admits the new spec');
  });

  test('an invalid status is refused and nothing is written; a missing resource yields undefined', async () => {
    const { manager, store } = newManager();
    await manager.apply(service('reviews'));
    const rev = await store.revision();
    const err = await rejection(manager.setStatus({ kind: 'Service', namespace: 'default', name: 'reviews' }, [{ type: 'Accepted', status: 'True', reason: 'not a reason!' }]));
    assert.equal(err.code, 'WEFT_ERR_API_INTERNAL');
    assert.match(err.message, /status\.conditions\[0\]\.reason/);
    assert.equal(await store.revision(), rev);
    assert.equal(await manager.setStatus({ kind: 'Service', namespace: 'default', name: 'gone' }, []), undefined);
  });
});
