import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DocumentIssue } from '../src/manager/index.js';
import { FaultyStore, newManager, rejection, route, service, storeContents } from './manager-fixtures.js';

const issuesOf = (err: { details?: Readonly<Record<string, unknown>> }): DocumentIssue[] => (err.details?.['issues'] ?? []) as DocumentIssue[];

describe('ResourceManager: a batch is applied all or nothing', () => {
  test('one invalid document: nothing is applied, and every issue of every document is reported', async () => {
    const { manager, store } = newManager();
    await manager.apply(service('existing'));
    const before = await storeContents(store);
    const err = await rejection(
      manager.applyBatch([
        service('fine'),
        { apiVersion: 'weft.dev/v1alpha1', kind: 'Gadget', metadata: { name: 'x' } },
        { ...service('typo'), spec: { ports: [{ port: 70000, colour: 'red' }] } },
        service('existing', { port: 1 }),
      ]),
    );
    assert.equal(err.code, 'WEFT_ERR_API_INVALID_RESOURCE');
    assert.deepEqual(
      issuesOf(err).map((i) => [i.document, i.field]),
      [
        [1, 'kind'],
        [2, 'spec.ports[0].port'],
        [2, 'spec.ports[0].colour'],
      ],
    );
    assert.match(err.message, /document 1 \(Gadget x\): kind: unknown kind "Gadget"/);
    assert.match(err.message, /nothing was applied/);
    assert.deepEqual(await storeContents(store), before, 'the store is as it was');
  });

  test('the same resource twice in a batch is refused', async () => {
    const { manager, store } = newManager();
    const err = await rejection(manager.applyBatch([service('a'), service('b'), service('a', { port: 1 })]));
    assert.equal(err.code, 'WEFT_ERR_API_INVALID_RESOURCE');
    assert.deepEqual(issuesOf(err).map((i) => [i.document, i.field]), [[2, 'metadata.name']]);
    assert.match(err.message, /also document 0/);
    assert.equal((await store.list()).items.length, 0);
  });

  test('size limits: too many documents, or one too large, is 413 and nothing is applied', async () => {
    const { manager, store } = newManager({ limits: { maxDocuments: 3, maxDocumentBytes: 4096 } });
    const many = await rejection(manager.applyBatch([service('a'), service('b'), service('c'), service('d')]));
    assert.equal(many.code, 'WEFT_ERR_API_TOO_MANY_DOCUMENTS');
    const big = { ...service('big'), metadata: { name: 'big', annotations: { note: 'x'.repeat(5000) } } };
    const large = await rejection(manager.applyBatch([service('a'), big]));
    assert.equal(large.code, 'WEFT_ERR_API_TOO_LARGE');
    assert.match(large.message, /document 1 is \d+ bytes; the limit is 4096/);
    assert.equal((await store.list()).items.length, 0);
  });

  test('a stale resourceVersion anywhere in the batch: 409 before anything is written', async () => {
    const { manager, store } = newManager();
    const { resource } = await manager.apply(service('b'));
    await manager.apply(service('b', { port: 1 }));
    const before = await storeContents(store);
    const err = await rejection(manager.applyBatch([service('a'), service('b', { port: 2, resourceVersion: resource.metadata.resourceVersion ?? '' })]));
    assert.equal(err.code, 'WEFT_ERR_STORE_CONFLICT');
    assert.equal(err.details?.['document'], 1);
    assert.deepEqual(await storeContents(store), before);
  });

  test('a write failing midway: the earlier writes are undone (creates deleted, updates restored)', async () => {
    const store = new FaultyStore();
    const { manager } = newManager({ store });
    await manager.applyBatch([service('kept', { port: 1 }), service('updated', { port: 1 })]);
    const before = await manager.list('Service');
    store.failWhen((op, key) => op === 'create' && key?.name === 'third');
    const err = await rejection(manager.applyBatch([service('new-one'), service('updated', { port: 2 }), service('third'), service('fourth')]));
    assert.equal(err.code, 'WEFT_ERR_STORE_IO', 'the cause\'s code is kept');
    assert.match(err.message, /document 2 \(Service default\/third\): injected disk failure; the 2 earlier writes of this batch were undone/);
    const after = await manager.list('Service');
    const strip = (list: typeof before): unknown => list.items.map((r) => ({ ...r, metadata: { ...r.metadata, resourceVersion: undefined } }));
    assert.deepEqual(strip(after), strip(before), 'same resources, same values (only their revisions moved)');
    assert.ok(!store.calls.some((c) => c.op === 'create' && c.key?.name === 'fourth'), 'nothing after the failure was attempted');
  });

  test('an undo that fails too is reported as WEFT_ERR_API_ROLLBACK_FAILED naming what stayed applied', async () => {
    const store = new FaultyStore();
    const { manager } = newManager({ store });
    store.failWhen((op, key) => op === 'create' && key?.name === 'second');
    store.failWhen((op) => op === 'delete');
    const err = await rejection(manager.applyBatch([service('first'), service('second')]));
    assert.equal(err.code, 'WEFT_ERR_API_ROLLBACK_FAILED');
    assert.match(err.message, /Service default\/first \(injected disk failure\): those stay applied/);
    assert.deepEqual(err.details?.['notUndone'], [{ subject: 'Service default/first', reason: 'injected disk failure' }]);
  });

  test('an undo never overwrites a change someone else made in between', async () => {
    const store = new FaultyStore();
    const { manager } = newManager({ store });
    store.failWhen((op, key) => op === 'create' && key?.name === 'second');
    // Just before the undo of the first write, someone else changes that resource.
    store.before = async (op, key) => {
      if (op !== 'delete' || key?.name !== 'first') return;
      const item = await store.inner.get(key);
      if (item !== undefined) await store.inner.update(key, { ...item.value, metadata: { ...(item.value['metadata'] as object), labels: { by: 'someone-else' } } });
    };
    const err = await rejection(manager.applyBatch([service('first'), service('second')]));
    assert.equal(err.code, 'WEFT_ERR_API_ROLLBACK_FAILED');
    const first = await manager.get({ kind: 'Service', namespace: 'default', name: 'first' });
    assert.deepEqual(first?.metadata.labels, { by: 'someone-else' }, "the other writer's change survives");
  });

  test('a dry run validates and reports what would happen, writing nothing', async () => {
    const { manager, store } = newManager();
    await manager.apply(service('same'));
    await manager.apply(service('changes'));
    const before = await storeContents(store);
    const results = await manager.applyBatch([service('same'), service('changes', { port: 1 }), service('brand-new')], { dryRun: true });
    assert.deepEqual(results.map((r) => r.result), ['unchanged', 'configured', 'created']);
    assert.deepEqual(await storeContents(store), before);
    assert.equal((await rejection(manager.applyBatch([{ kind: 'Nope' }], { dryRun: true }))).code, 'WEFT_ERR_API_INVALID_RESOURCE');
  });

  test('results come in document order with what each did', async () => {
    const { manager } = newManager();
    await manager.apply(service('b'));
    const out = await manager.applyBatch([service('a'), service('b'), service('b2'), route('r', 'a', ['b'])]);
    assert.deepEqual(out.map((o) => [o.resource.metadata.name, o.result]), [['a', 'created'], ['b', 'unchanged'], ['b2', 'created'], ['r', 'created']]);
    assert.ok(out.every((o) => o.resource.metadata.resourceVersion !== undefined));
  });

  test('an empty batch does nothing', async () => {
    const { manager, store } = newManager();
    assert.deepEqual(await manager.applyBatch([]), []);
    assert.equal(await store.revision(), 0);
  });
});
