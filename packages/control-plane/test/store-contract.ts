/**
 * The contract every `Store` backend must pass (memory, file, and later etcd): CRUD,
 * optimistic concurrency, ordering, watches with resume and compaction, copying, limits.
 * A backend's test file calls `storeContract(name, factory)`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WeftError } from '@weft/core';
import type { HistoryLimits, JsonObject, Store, StoreKey, WatchEvent } from '../src/store/index.js';

/** Options the contract needs a backend to honour. */
export interface ContractStoreOptions {
  readonly history?: HistoryLimits;
  readonly maxValueBytes?: number;
}

/** Makes a fresh, empty store for one test; the test closes it. */
export type StoreFactory = (options: ContractStoreOptions) => Promise<Store>;

const k = (name: string, kind = 'Service', namespace = 'default'): StoreKey => ({ kind, namespace, name });

/** Asserts that `p` rejects with a WeftError of `code` and `status`. */
export const rejectsWith = async (p: Promise<unknown>, code: string, status?: number): Promise<WeftError> => {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof WeftError, `expected a WeftError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (status !== undefined) assert.equal(caught.status, status);
  return caught;
};

const throwsWith = (fn: () => unknown, code: string): void => {
  assert.throws(fn, (err: unknown) => err instanceof WeftError && err.code === code);
};

/** Collects watch events; `until(n)` waits (without sleeping blindly) until `n` have arrived. */
export const collector = (): { events: WatchEvent[]; onEvent: (e: WatchEvent) => void; until: (n: number) => Promise<WatchEvent[]> } => {
  const events: WatchEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    events,
    onEvent: (e) => {
      events.push(e);
      wake?.();
    },
    until: async (n) => {
      const deadline = Date.now() + 5000;
      while (events.length < n) {
        if (Date.now() > deadline) assert.fail(`waited for ${n} watch events, got ${events.length}: ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events;
    },
  };
};

/** Lets queued microtasks and I/O callbacks run, so that events that should not come would have. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

/** Registers the contract suite for one backend. */
export const storeContract = (name: string, factory: StoreFactory): void => {
  const withStore = (opts: ContractStoreOptions, fn: (s: Store) => Promise<void>) => async (): Promise<void> => {
    const s = await factory(opts);
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`Store contract: ${name}`, () => {
    describe('create and get', () => {
      test(
        'a new store is empty at revision 0',
        withStore({}, async (s) => {
          assert.equal(await s.revision(), 0);
          assert.deepEqual(await s.list(), { items: [], revision: 0 });
          assert.equal(await s.get(k('web')), undefined);
        }),
      );

      test(
        'create stores the value with createRevision = modRevision = the new store revision',
        withStore({}, async (s) => {
          const value = { spec: { ports: [80, 443], labels: { app: 'web' }, weight: 0.5, tls: true, note: null } };
          const item = await s.create(k('web'), value);
          assert.deepEqual(item.key, k('web'));
          assert.deepEqual(item.value, value);
          assert.ok(item.createRevision >= 1);
          assert.equal(item.modRevision, item.createRevision);
          assert.equal(await s.revision(), item.modRevision);
          assert.deepEqual(await s.get(k('web')), item);
        }),
      );

      test(
        'create of an existing key fails with 409 ALREADY_EXISTS and changes nothing',
        withStore({}, async (s) => {
          const first = await s.create(k('web'), { v: 1 });
          await rejectsWith(s.create(k('web'), { v: 2 }), 'WEFT_ERR_STORE_ALREADY_EXISTS', 409);
          assert.deepEqual(await s.get(k('web')), first);
          assert.equal(await s.revision(), first.modRevision);
        }),
      );

      test(
        'keys differing in kind, namespace or name are distinct; cluster-scoped keys have an empty namespace',
        withStore({}, async (s) => {
          await s.create(k('a', 'Service', 'default'), { n: 1 });
          await s.create(k('a', 'Service', 'other'), { n: 2 });
          await s.create(k('a', 'HTTPRoute', 'default'), { n: 3 });
          await s.create(k('a', 'Mesh', ''), { n: 4 });
          assert.deepEqual((await s.get(k('a', 'Service', 'other')))?.value, { n: 2 });
          assert.deepEqual((await s.get(k('a', 'Mesh', '')))?.value, { n: 4 });
          assert.equal((await s.list()).items.length, 4);
        }),
      );
    });

    describe('update', () => {
      test(
        'update replaces the value, advances modRevision, keeps createRevision',
        withStore({}, async (s) => {
          const c = await s.create(k('web'), { v: 1 });
          const u = await s.update(k('web'), { v: 2 });
          assert.deepEqual(u.value, { v: 2 });
          assert.equal(u.createRevision, c.createRevision);
          assert.ok(u.modRevision > c.modRevision);
          const u2 = await s.update(k('web'), { v: 3 }, u.modRevision);
          assert.ok(u2.modRevision > u.modRevision);
          assert.deepEqual((await s.get(k('web')))?.value, { v: 3 });
        }),
      );

      test(
        'update with a stale expected revision fails with 409 CONFLICT and changes nothing',
        withStore({}, async (s) => {
          const c = await s.create(k('web'), { v: 1 });
          const u = await s.update(k('web'), { v: 2 });
          const err = await rejectsWith(s.update(k('web'), { v: 3 }, c.modRevision), 'WEFT_ERR_STORE_CONFLICT', 409);
          assert.equal(err.context['modRevision'], u.modRevision);
          assert.deepEqual(await s.get(k('web')), u);
          assert.equal(await s.revision(), u.modRevision);
        }),
      );

      test(
        'update of a missing key fails with 404 NOT_FOUND',
        withStore({}, async (s) => {
          await rejectsWith(s.update(k('nope'), { v: 1 }), 'WEFT_ERR_STORE_NOT_FOUND', 404);
          await rejectsWith(s.update(k('nope'), { v: 1 }, 1), 'WEFT_ERR_STORE_NOT_FOUND', 404);
          assert.equal(await s.revision(), 0);
        }),
      );

      test(
        'of two concurrent updates with the same expected revision exactly one wins',
        withStore({}, async (s) => {
          const c = await s.create(k('web'), { v: 0 });
          const results = await Promise.allSettled([s.update(k('web'), { v: 'a' }, c.modRevision), s.update(k('web'), { v: 'b' }, c.modRevision)]);
          const won = results.filter((r) => r.status === 'fulfilled');
          const lost = results.filter((r) => r.status === 'rejected');
          assert.equal(won.length, 1);
          assert.equal(lost.length, 1);
          const reason: unknown = lost[0]?.reason;
          assert.ok(reason instanceof WeftError && reason.code === 'WEFT_ERR_STORE_CONFLICT' && reason.status === 409);
          const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
          assert.deepEqual(await s.get(k('web')), winner);
        }),
      );

      test(
        'of twenty concurrent updates with the same expected revision exactly one wins; of twenty creates, one',
        withStore({}, async (s) => {
          const c = await s.create(k('web'), { v: -1 });
          const ups = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.update(k('web'), { v: i }, c.modRevision)));
          assert.equal(ups.filter((r) => r.status === 'fulfilled').length, 1);
          const creates = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create(k('new'), { v: i })));
          assert.equal(creates.filter((r) => r.status === 'fulfilled').length, 1);
          for (const r of creates) {
            if (r.status === 'rejected') assert.equal((r.reason as WeftError).code, 'WEFT_ERR_STORE_ALREADY_EXISTS');
          }
        }),
      );

      test(
        'concurrent unconditional updates all apply, in call order, each at its own revision',
        withStore({}, async (s) => {
          await s.create(k('web'), { v: -1 });
          const ups = await Promise.all(Array.from({ length: 20 }, (_, i) => s.update(k('web'), { v: i })));
          const revs = ups.map((u) => u.modRevision);
          assert.deepEqual([...revs].sort((a, b) => a - b), revs);
          assert.equal(new Set(revs).size, 20);
          assert.deepEqual((await s.get(k('web')))?.value, { v: 19 });
        }),
      );
    });

    describe('delete', () => {
      test(
        'delete removes the item and returns what it held and the revision of the deletion',
        withStore({}, async (s) => {
          const c = await s.create(k('web'), { v: 1 });
          const d = await s.delete(k('web'));
          assert.deepEqual(d.prevItem, c);
          assert.ok(d.revision > c.modRevision);
          assert.equal(await s.revision(), d.revision);
          assert.equal(await s.get(k('web')), undefined);
          assert.deepEqual((await s.list()).items, []);
        }),
      );

      test(
        'delete of a missing key fails with 404; with a stale expected revision, 409; with the right one, it deletes',
        withStore({}, async (s) => {
          await rejectsWith(s.delete(k('nope')), 'WEFT_ERR_STORE_NOT_FOUND', 404);
          const c = await s.create(k('web'), { v: 1 });
          const u = await s.update(k('web'), { v: 2 });
          await rejectsWith(s.delete(k('web'), c.modRevision), 'WEFT_ERR_STORE_CONFLICT', 409);
          assert.deepEqual(await s.get(k('web')), u);
          await s.delete(k('web'), u.modRevision);
          assert.equal(await s.get(k('web')), undefined);
          await rejectsWith(s.delete(k('web')), 'WEFT_ERR_STORE_NOT_FOUND', 404);
        }),
      );

      test(
        'a key created again after delete gets a new createRevision; the old revision does not match it',
        withStore({}, async (s) => {
          const c1 = await s.create(k('web'), { v: 1 });
          await s.delete(k('web'));
          const c2 = await s.create(k('web'), { v: 2 });
          assert.ok(c2.createRevision > c1.createRevision);
          await rejectsWith(s.update(k('web'), { v: 3 }, c1.modRevision), 'WEFT_ERR_STORE_CONFLICT', 409);
        }),
      );
    });

    describe('list', () => {
      test(
        'list orders by kind/namespace/name and filters by kind, and by kind and namespace',
        withStore({}, async (s) => {
          const keys = [k('b', 'Service', 'prod'), k('z', 'HTTPRoute', 'default'), k('a', 'Service', 'prod'), k('c', 'Service', 'default'), k('m', 'Mesh', '')];
          for (const key of keys) await s.create(key, { name: key.name });
          const names = (items: { key: StoreKey }[]): string[] => items.map((i) => `${i.key.kind}/${i.key.namespace}/${i.key.name}`);
          const all = await s.list();
          assert.deepEqual(names(all.items), ['HTTPRoute/default/z', 'Mesh//m', 'Service/default/c', 'Service/prod/a', 'Service/prod/b']);
          assert.equal(all.revision, await s.revision());
          assert.deepEqual(names((await s.list({ kind: 'Service' })).items), ['Service/default/c', 'Service/prod/a', 'Service/prod/b']);
          assert.deepEqual(names((await s.list({ kind: 'Service', namespace: 'prod' })).items), ['Service/prod/a', 'Service/prod/b']);
          assert.deepEqual(names((await s.list({ kind: 'Mesh', namespace: '' })).items), ['Mesh//m']);
          assert.deepEqual((await s.list({ kind: 'Serv' })).items, [], 'a kind filter is not a string prefix of kinds');
          assert.deepEqual((await s.list({ kind: 'Workload' })).items, []);
        }),
      );

      test(
        'list results carry the revision they were read at',
        withStore({}, async (s) => {
          await s.create(k('a'), { v: 1 });
          const r1 = await s.list();
          await s.create(k('b'), { v: 1 });
          const r2 = await s.list();
          assert.ok(r2.revision > r1.revision);
          assert.equal(r2.revision, await s.revision());
        }),
      );
    });

    describe('values are copies', () => {
      test(
        'mutating the value passed in, or any value handed out, never changes the store',
        withStore({}, async (s) => {
          const input: JsonObject = { spec: { ports: [80] } };
          const created = await s.create(k('web'), input);
          (input['spec'] as { ports: number[] }).ports.push(1);
          (created.value['spec'] as { ports: number[] }).ports.push(2);
          const got = await s.get(k('web'));
          assert.deepEqual(got?.value, { spec: { ports: [80] } });
          (got?.value['spec'] as { ports: number[] }).ports.push(3);
          const listed: JsonObject | undefined = (await s.list()).items[0]?.value;
          assert.ok(listed !== undefined);
          listed['extra'] = true;
          assert.deepEqual((await s.get(k('web')))?.value, { spec: { ports: [80] } });

          const c = collector();
          const w = s.watch(1, (e) => {
            if (e.type === 'put') e.item.value['mutatedByWatcher'] = true;
            c.onEvent(e);
          });
          await c.until(1);
          await w.close();
          assert.deepEqual((await s.get(k('web')))?.value, { spec: { ports: [80] } });
          const u = await s.update(k('web'), { spec: { ports: [81] } });
          u.value['x'] = 1;
          assert.deepEqual((await s.get(k('web')))?.value, { spec: { ports: [81] } });
        }),
      );
    });

    describe('input checks', () => {
      test(
        'malformed keys and filters fail with 400 INVALID_KEY',
        withStore({}, async (s) => {
          const bad: StoreKey[] = [k(''), k('a/b'), k('-web'), k('web-'), k('we b'), k('é'), k('a'.repeat(254)), k('a', ''), k('a', 'Kind/x'), k('a', 'Svc', 'ns/x')];
          for (const key of bad) await rejectsWith(s.create(key, { v: 1 }), 'WEFT_ERR_STORE_INVALID_KEY', 400);
          await rejectsWith(s.get(k('a/b')), 'WEFT_ERR_STORE_INVALID_KEY');
          await rejectsWith(s.list({ namespace: 'default' }), 'WEFT_ERR_STORE_INVALID_KEY');
          await rejectsWith(s.list({ kind: 'a/b' }), 'WEFT_ERR_STORE_INVALID_KEY');
          throwsWith(() => s.watch(1, () => undefined, { kind: '' }), 'WEFT_ERR_STORE_INVALID_KEY');
          await s.create(k('a'.repeat(253)), { v: 1 });
          await s.create(k('web.v1_2-x', 'Service', 'ns-1'), { v: 1 });
        }),
      );

      test(
        'values that are not JSON objects fail with 400 INVALID_VALUE; undefined properties are dropped',
        withStore({}, async (s) => {
          const cyclic: Record<string, unknown> = {};
          cyclic['self'] = cyclic;
          const bad: unknown[] = [null, [], 'x', 1, { d: new Date() }, { n: Number.NaN }, { n: Infinity }, { b: 1n }, { f: () => 1 }, { a: [1, undefined] }, { m: new Map() }, cyclic];
          for (const v of bad) await rejectsWith(s.create(k('web'), v as JsonObject), 'WEFT_ERR_STORE_INVALID_VALUE', 400);
          assert.equal(await s.revision(), 0);
          const item = await s.create(k('web'), { a: 1, gone: undefined } as unknown as JsonObject);
          assert.deepEqual(item.value, { a: 1 });
          const shared = { x: 1 };
          await s.update(k('web'), { one: shared, two: shared, nested: { '': '', 'é ünïcode ✓': '\u2028\n"' } });
          assert.deepEqual((await s.get(k('web')))?.value, { one: { x: 1 }, two: { x: 1 }, nested: { '': '', 'é ünïcode ✓': '\u2028\n"' } });
        }),
      );

      test(
        'bad revisions fail with 400 INVALID_REVISION',
        withStore({}, async (s) => {
          await s.create(k('web'), { v: 1 });
          for (const r of [0, -1, 1.5, Number.NaN]) {
            await rejectsWith(s.update(k('web'), { v: 2 }, r), 'WEFT_ERR_STORE_INVALID_REVISION', 400);
            await rejectsWith(s.delete(k('web'), r), 'WEFT_ERR_STORE_INVALID_REVISION', 400);
            throwsWith(() => s.watch(r, () => undefined), 'WEFT_ERR_STORE_INVALID_REVISION');
          }
        }),
      );

      test(
        'large values round-trip; values over the limit fail with 413 TOO_LARGE',
        withStore({ maxValueBytes: 1024 * 1024 }, async (s) => {
          const big = { blob: 'x'.repeat(900 * 1024), list: Array.from({ length: 2000 }, (_, i) => ({ i, s: `item-${i}` })) };
          await s.create(k('big'), big);
          assert.deepEqual((await s.get(k('big')))?.value, big);
          await rejectsWith(s.create(k('huge'), { blob: 'x'.repeat(1024 * 1024) }), 'WEFT_ERR_STORE_TOO_LARGE', 413);
          assert.equal(await s.get(k('huge')), undefined);
        }),
      );
    });

    describe('many keys', () => {
      test(
        '2000 concurrent creates all land, each at a distinct revision, listed in key order',
        withStore({}, async (s) => {
          const n = 2000;
          const names = Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(5, '0')}`);
          const shuffled = [...names].sort(() => Math.random() - 0.5);
          const items = await Promise.all(shuffled.map((name) => s.create(k(name), { name, spec: { port: 8080 } })));
          assert.equal(new Set(items.map((i) => i.modRevision)).size, n);
          const { items: listed, revision } = await s.list({ kind: 'Service' });
          assert.deepEqual(listed.map((i) => i.key.name), names);
          assert.equal(revision, Math.max(...items.map((i) => i.modRevision)));
          for (const i of listed) assert.deepEqual(i.value, { name: i.key.name, spec: { port: 8080 } });
        }),
      );
    });

    describe('watch', () => {
      test(
        'a watch from the next revision sees puts and deletes in order, with items and revisions',
        withStore({}, async (s) => {
          const c = collector();
          const w = s.watch((await s.revision()) + 1, c.onEvent);
          const a = await s.create(k('a'), { v: 1 });
          const a2 = await s.update(k('a'), { v: 2 });
          const b = await s.create(k('b'), { v: 1 });
          const d = await s.delete(k('a'));
          const events = await c.until(4);
          assert.deepEqual(events, [
            { type: 'put', revision: a.modRevision, item: a },
            { type: 'put', revision: a2.modRevision, item: a2 },
            { type: 'put', revision: b.modRevision, item: b },
            { type: 'delete', revision: d.revision, key: k('a'), prevItem: a2 },
          ]);
          await w.close();
        }),
      );

      test(
        'events are delivered asynchronously, never inside the watch call',
        withStore({}, async (s) => {
          await s.create(k('a'), { v: 1 });
          let delivered = 0;
          const w = s.watch(1, () => delivered++);
          assert.equal(delivered, 0);
          await settle();
          assert.equal(delivered, 1);
          await w.close();
        }),
      );

      test(
        'a watch from an old revision first replays what happened since, then continues live, without gaps or repeats',
        withStore({}, async (s) => {
          const r1 = (await s.create(k('a'), { v: 1 })).modRevision;
          const r2 = (await s.update(k('a'), { v: 2 })).modRevision;
          const r3 = (await s.create(k('b'), { v: 1 })).modRevision;
          const c = collector();
          const w = s.watch(r2, c.onEvent);
          const r4 = (await s.delete(k('b'))).revision;
          const events = await c.until(3);
          await settle();
          assert.deepEqual(
            events.map((e) => (e.type === 'put' || e.type === 'delete' ? e.revision : -1)),
            [r2, r3, r4],
          );
          assert.ok(r1 < r2);
          await w.close();
        }),
      );

      test(
        'a watch filtered by kind and namespace sees only matching keys, and advances past the rest',
        withStore({}, async (s) => {
          const byKind = collector();
          const byNs = collector();
          const w1 = s.watch(1, byKind.onEvent, { kind: 'HTTPRoute' });
          const w2 = s.watch(1, byNs.onEvent, { kind: 'Service', namespace: 'prod' });
          await s.create(k('web', 'Service', 'default'), { v: 1 });
          await s.create(k('r1', 'HTTPRoute', 'default'), { v: 1 });
          await s.create(k('api', 'Service', 'prod'), { v: 1 });
          await s.create(k('r2', 'HTTPRoute', 'prod'), { v: 1 });
          await s.delete(k('api', 'Service', 'prod'));
          const routes = await byKind.until(2);
          const prod = await byNs.until(2);
          await settle();
          assert.deepEqual(routes.map((e) => (e.type === 'put' ? e.item.key.name : e.type)), ['r1', 'r2']);
          assert.deepEqual(prod.map((e) => e.type), ['put', 'delete']);
          await w1.close();
          await w2.close();
        }),
      );

      test(
        'several watchers see the same events in the same order under concurrent writes',
        withStore({}, async (s) => {
          const cs = [collector(), collector(), collector()];
          const ws = cs.map((c) => s.watch(1, c.onEvent));
          await Promise.all(Array.from({ length: 50 }, (_, i) => s.create(k(`s${i}`), { i })));
          await Promise.all(Array.from({ length: 50 }, (_, i) => s.update(k(`s${i}`), { i: -i })));
          const seqs = await Promise.all(cs.map((c) => c.until(100)));
          const revs = seqs.map((evs) => evs.map((e) => (e.type === 'put' ? e.revision : -1)));
          for (const r of revs) {
            assert.deepEqual(r, [...r].sort((a, b) => a - b));
            assert.equal(new Set(r).size, 100);
          }
          assert.deepEqual(revs[0], revs[1]);
          assert.deepEqual(revs[0], revs[2]);
          for (const w of ws) await w.close();
        }),
      );

      test(
        'a callback that writes to the store does not break the order other watchers see',
        withStore({}, async (s) => {
          const observer = collector();
          const writer = s.watch(1, (e) => {
            if (e.type === 'put' && e.item.key.name === 'trigger') void s.create(k('echo'), { from: 'watcher' });
          });
          const wo = s.watch(1, observer.onEvent);
          await s.create(k('trigger'), { v: 1 });
          await s.create(k('after'), { v: 1 });
          const evs = await observer.until(3);
          const revs = evs.map((e) => (e.type === 'put' ? e.revision : -1));
          assert.deepEqual(revs, [...revs].sort((a, b) => a - b));
          await writer.close();
          await wo.close();
        }),
      );

      test(
        'a callback that throws does not stop delivery',
        withStore({}, async (s) => {
          let calls = 0;
          const w = s.watch(1, () => {
            calls++;
            throw new Error('boom (expected in this test)');
          });
          await s.create(k('a'), { v: 1 });
          await s.create(k('b'), { v: 1 });
          await settle();
          assert.equal(calls, 2);
          await w.close();
        }),
      );

      test(
        'close stops delivery at once, even of events already queued',
        withStore({}, async (s) => {
          const c = collector();
          const w = s.watch(1, c.onEvent);
          await s.create(k('a'), { v: 1 });
          await c.until(1);
          const pending = s.create(k('b'), { v: 1 });
          await w.close();
          await pending;
          await s.create(k('c'), { v: 1 });
          await settle();
          assert.equal(c.events.length, 1);
        }),
      );

      test(
        'a watch from a future revision waits for it',
        withStore({}, async (s) => {
          const c = collector();
          const w = s.watch(3, c.onEvent);
          await s.create(k('a'), { v: 1 });
          await s.create(k('b'), { v: 1 });
          await s.create(k('c'), { v: 1 });
          const evs = await c.until(1);
          await settle();
          assert.equal(evs.length, 1);
          assert.equal(evs[0]?.type === 'put' ? evs[0].item.key.name : '', 'c');
          await w.close();
        }),
      );

      test(
        'a watch from a revision older than the history gets one compacted event, then nothing; re-list and re-watch works',
        withStore({ history: { maxEvents: 5 } }, async (s) => {
          for (let i = 0; i < 12; i++) await s.create(k(`s${i}`), { i });
          const rev = await s.revision();
          const c = collector();
          s.watch(1, c.onEvent);
          const [ev] = await c.until(1);
          assert.equal(ev?.type, 'compacted');
          if (ev?.type === 'compacted') {
            assert.ok(ev.compactRevision >= 1 && ev.compactRevision < rev);
            assert.equal(ev.revision, rev);
          }
          await s.create(k('later'), { v: 1 });
          await settle();
          assert.equal(c.events.length, 1, 'nothing after compacted');

          // The recent past is still there.
          const recent = collector();
          const w2 = s.watch(rev - 3, recent.onEvent);
          const evs = await recent.until(5);
          assert.deepEqual(
            evs.map((e) => (e.type === 'put' ? e.revision : -1)),
            [rev - 3, rev - 2, rev - 1, rev, rev + 1],
          );
          await w2.close();

          // The reader's recovery: list, then watch from the list's revision + 1.
          const { items, revision } = await s.list();
          assert.equal(items.length, 13);
          const live = collector();
          const w3 = s.watch(revision + 1, live.onEvent);
          await s.delete(k('later'));
          const [d] = await live.until(1);
          assert.equal(d?.type, 'delete');
          await w3.close();
        }),
      );

      test(
        'history is bounded by bytes as well as by count',
        withStore({ history: { maxEvents: 10_000, maxBytes: 64 * 1024 } }, async (s) => {
          for (let i = 0; i < 20; i++) await s.create(k(`s${i}`), { blob: 'x'.repeat(16 * 1024) });
          const c = collector();
          s.watch(1, c.onEvent);
          const [ev] = await c.until(1);
          assert.equal(ev?.type, 'compacted');
        }),
      );
    });

    describe('revisions and close', () => {
      test(
        'failed writes do not advance the revision',
        withStore({}, async (s) => {
          const c = await s.create(k('a'), { v: 1 });
          await rejectsWith(s.create(k('a'), { v: 1 }), 'WEFT_ERR_STORE_ALREADY_EXISTS');
          await rejectsWith(s.update(k('a'), { v: 1 }, c.modRevision + 100), 'WEFT_ERR_STORE_CONFLICT');
          await rejectsWith(s.delete(k('b')), 'WEFT_ERR_STORE_NOT_FOUND');
          await rejectsWith(s.create(k('b'), { v: Number.NaN }), 'WEFT_ERR_STORE_INVALID_VALUE');
          assert.equal(await s.revision(), c.modRevision);
          const d = await s.create(k('b'), { v: 1 });
          assert.equal(d.modRevision, c.modRevision + 1);
        }),
      );

      test('close waits for accepted writes, ends watches silently; later calls fail with 503 CLOSED; close is idempotent', async () => {
        const s = await factory({});
        const c = collector();
        s.watch(1, c.onEvent);
        const pending = s.create(k('a'), { v: 1 });
        const closing = s.close();
        await pending;
        await closing;
        await settle();
        assert.ok(c.events.every((e) => e.type === 'put'));
        await rejectsWith(s.get(k('a')), 'WEFT_ERR_STORE_CLOSED', 503);
        await rejectsWith(s.list(), 'WEFT_ERR_STORE_CLOSED');
        await rejectsWith(s.create(k('b'), { v: 1 }), 'WEFT_ERR_STORE_CLOSED');
        await rejectsWith(s.update(k('a'), { v: 1 }), 'WEFT_ERR_STORE_CLOSED');
        await rejectsWith(s.delete(k('a')), 'WEFT_ERR_STORE_CLOSED');
        await rejectsWith(s.revision(), 'WEFT_ERR_STORE_CLOSED');
        throwsWith(() => s.watch(1, () => undefined), 'WEFT_ERR_STORE_CLOSED');
        await s.close();
      });
    });
  });
};
