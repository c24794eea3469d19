/** Shared builders for the manager and API tests: documents, a fixed clock, a store that fails on demand. */
import { StoreError, MemoryStore, type DeleteResult, type JsonObject, type KeyFilter, type ListResult, type Store, type StoredItem, type StoreKey, type Watch, type WatchEvent } from '../src/store/index.js';
import { ResourceManager, type ResourceManagerOptions } from '../src/manager/index.js';
import { silentLogger } from './fixtures/store-helpers.js';

/** A Service document as a user writes it. */
export const service = (name: string, extra: { namespace?: string; port?: number; labels?: Record<string, string>; resourceVersion?: string; subsetOf?: string } = {}): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Service',
  metadata: {
    name,
    ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }),
    ...(extra.labels === undefined ? {} : { labels: extra.labels }),
    ...(extra.resourceVersion === undefined ? {} : { resourceVersion: extra.resourceVersion }),
  },
  spec: extra.subsetOf === undefined ? { ports: [{ port: extra.port ?? 9080 }] } : { subsetOf: { service: extra.subsetOf, labels: { version: 'v2' } } },
});

/** An HTTPRoute attached to Service `parent`, sending to `backends` (name:weight). */
export const route = (name: string, parent: string, backends: readonly string[], extra: { namespace?: string; resourceVersion?: string } = {}): Record<string, unknown> => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: {
    name,
    ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }),
    ...(extra.resourceVersion === undefined ? {} : { resourceVersion: extra.resourceVersion }),
  },
  spec: {
    parentRefs: [{ group: '', kind: 'Service', name: parent }],
    rules: [{ backendRefs: backends.map((b) => ({ name: b.split(':')[0], port: 9080, weight: Number(b.split(':')[1] ?? 1) })) }],
  },
});

/** A DestinationPolicy for Service `target`. */
export const destinationPolicy = (name: string, target: string): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'DestinationPolicy',
  metadata: { name },
  spec: { targetRef: { kind: 'Service', name: target } },
});

/** The Mesh. */
export const mesh = (mode: 'STRICT' | 'PERMISSIVE' = 'STRICT'): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'Mesh',
  metadata: { name: 'default' },
  spec: { mtls: { mode } },
});

/** A clock that stands still until moved. */
export class FixedClock {
  #t: number;
  constructor(iso = '2025-01-02T03:04:05Z') {
    this.#t = Date.parse(iso);
  }
  readonly now = (): Date => new Date(this.#t);
  advance(ms: number): void {
    this.#t += ms;
  }
}

/** What a fault rule matches: an operation and a key. */
export type FaultOp = 'get' | 'list' | 'create' | 'update' | 'delete';

/**
 * A `Store` over a `MemoryStore` whose operations fail on demand: `failWhen(pred, error)`
 * makes every call for which `pred(op, key)` holds throw `error`, until `heal()`.
 */
export class FaultyStore implements Store {
  readonly inner = new MemoryStore({ logger: silentLogger });
  #rules: { pred: (op: FaultOp, key: StoreKey | undefined) => boolean; error: () => Error }[] = [];
  /** Calls that went through, in order (for assertions on what was written). */
  readonly calls: { op: FaultOp; key?: StoreKey }[] = [];
  /** Runs (and is awaited) before every operation: a test's concurrent writer goes here. */
  before: (op: FaultOp, key: StoreKey | undefined) => Promise<void> | void = () => undefined;

  failWhen(pred: (op: FaultOp, key: StoreKey | undefined) => boolean, error: () => Error = () => new StoreError('WEFT_ERR_STORE_IO', 'injected disk failure')): void {
    this.#rules.push({ pred, error });
  }

  heal(): void {
    this.#rules = [];
  }

  async #check(op: FaultOp, key?: StoreKey): Promise<void> {
    await this.before(op, key);
    const rule = this.#rules.find((r) => r.pred(op, key));
    if (rule !== undefined) throw rule.error();
    this.calls.push(key === undefined ? { op } : { op, key });
  }

  async get(key: StoreKey): Promise<StoredItem | undefined> {
    await this.#check('get', key);
    return this.inner.get(key);
  }
  async list(filter?: KeyFilter): Promise<ListResult> {
    await this.#check('list');
    return this.inner.list(filter);
  }
  async create(key: StoreKey, value: JsonObject): Promise<StoredItem> {
    await this.#check('create', key);
    return this.inner.create(key, value);
  }
  async update(key: StoreKey, value: JsonObject, expectedRevision?: number): Promise<StoredItem> {
    await this.#check('update', key);
    return this.inner.update(key, value, expectedRevision);
  }
  async delete(key: StoreKey, expectedRevision?: number): Promise<DeleteResult> {
    await this.#check('delete', key);
    return this.inner.delete(key, expectedRevision);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  watch(fromRevision: number, onEvent: (event: WatchEvent) => void, filter?: KeyFilter): Watch {
    return this.inner.watch(fromRevision, onEvent, filter);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A manager over `store` (a fresh MemoryStore by default) with a fixed clock and counting uids. */
export const newManager = (options: Partial<ResourceManagerOptions> = {}): { manager: ResourceManager; store: Store; clock: FixedClock } => {
  const store = options.store ?? new MemoryStore({ logger: silentLogger });
  const clock = new FixedClock();
  let uid = 0;
  const manager = new ResourceManager({ store, now: clock.now, newUid: () => `uid-${++uid}`, logger: silentLogger, ...options });
  return { manager, store, clock };
};

/** Everything in the store, as `key -> value` with revisions: equal before and after means nothing changed. */
export const storeContents = async (store: Store): Promise<{ revision: number; items: Record<string, { value: JsonObject; modRevision: number }> }> => {
  const { items, revision } = await store.list();
  return { revision, items: Object.fromEntries(items.map((i) => [`${i.key.kind}/${i.key.namespace}/${i.key.name}`, { value: i.value, modRevision: i.modRevision }])) };
};

/** The error `p` rejects with (fails the test if it resolves). */
export const rejection = async (p: Promise<unknown>): Promise<Error & { code?: string; details?: Readonly<Record<string, unknown>> }> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`rejected with a non-Error: ${String(err)}`);
  }
  throw new Error('expected a rejection, but it resolved');
};
