import { safeParseResource, type AnyResource } from '@weft/api';
import { kindNamed } from '../manager/keys.js';
import type { Logger } from '@weft/core';
import { encodeKey, type Store, type StoredItem, type Watch, type WatchEvent } from '../store/index.js';

interface Cached {
  readonly resource: AnyResource;
  /** What the compiler reads of the resource, as JSON: a change of anything else does not recompile. */
  readonly inputs: string;
}

/**
 * What of a resource the compiler depends on: everything but `metadata.resourceVersion` and
 * `status`, except the health of a declared Workload (out-of-mesh instances are endpoints
 * unless marked `UNHEALTHY`). So the status writes of the compiler and the registry (an
 * ACK, a condition) never trigger a compile of their own.
 */
const compileInputs = (r: AnyResource): string => {
  const { resourceVersion: _rv, ...metadata } = r.metadata;
  const health = r.kind === 'Workload' && !r.spec.inMesh ? r.status?.health : undefined;
  return JSON.stringify([metadata, r.spec, health ?? null]);
};

/**
 * Every resource of the store, parsed and kept current by a watch: the compiler's input.
 * Reads the whole store, then watches from the revision after; when the watch reports
 * `compacted` or `error`, it lists again and resumes from there. Calls `onChange` when a
 * resource changed in a way the compiler sees ({@link compileInputs}); status-only writes
 * update the cache silently.
 */
export class ResourceCache {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #onChange: () => void;
  #items = new Map<string, Cached>();
  #list: AnyResource[] | undefined;
  #watch: Watch | undefined;
  #closed = false;
  #relisting = false;

  constructor(store: Store, logger: Logger, onChange: () => void) {
    this.#store = store;
    this.#log = logger.child({ component: 'resource-cache' });
    this.#onChange = onChange;
  }

  /** Lists the store and starts watching. */
  async start(): Promise<void> {
    await this.#relist();
  }

  /** Every valid resource, in store key order; the same array until something changes. */
  resources(): readonly AnyResource[] {
    this.#list ??= [...this.#items.values()].map((c) => c.resource);
    return this.#list;
  }

  /** The resource at `kind/namespace/name` (namespace `''` for cluster-scoped kinds). */
  get(kind: string, namespace: string, name: string): AnyResource | undefined {
    return this.#items.get(`${kind}/${namespace}/${name}`)?.resource;
  }

  /** Stops watching. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#watch?.close();
  }

  async #relist(): Promise<void> {
    await this.#watch?.close();
    this.#watch = undefined;
    const { items, revision } = await this.#store.list();
    const next = new Map<string, Cached>();
    for (const item of items) {
      const c = this.#parse(item);
      if (c !== undefined) next.set(encodeKey(item.key), c);
    }
    this.#items = next;
    this.#list = undefined;
    if (this.#closed) return;
    this.#watch = this.#store.watch(revision + 1, (e) => this.#onEvent(e));
    this.#onChange();
  }

  #onEvent(e: WatchEvent): void {
    if (this.#closed) return;
    if (e.type === 'compacted' || e.type === 'error') {
      if (this.#relisting) return;
      this.#relisting = true;
      this.#log.warn({ event: e.type, ...(e.type === 'error' ? { err: e.error.message } : {}) }, 'store watch ended; listing the store again');
      void this.#relistUntilDone();
      return;
    }
    const key = e.type === 'put' ? encodeKey(e.item.key) : encodeKey(e.key);
    const before = this.#items.get(key);
    const after = e.type === 'put' ? this.#parse(e.item) : undefined;
    if (after === undefined) this.#items.delete(key);
    else this.#items.set(key, after);
    this.#list = undefined;
    if (before?.inputs !== after?.inputs) this.#onChange();
  }

  /** Lists again, retrying with a delay while the store fails (it may be recovering). */
  async #relistUntilDone(): Promise<void> {
    for (let delay = 100; !this.#closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#relist();
        break;
      } catch (err) {
        this.#log.error({ err, retryInMs: delay }, 'listing the store failed');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
    this.#relisting = false;
  }

  #parse(item: StoredItem): Cached | undefined {
    // The store holds other records too (join tokens): only resource kinds are resources.
    if (kindNamed(item.key.kind) === undefined) return undefined;
    const doc = { ...item.value, metadata: { ...(item.value['metadata'] as object), resourceVersion: String(item.modRevision) } };
    const r = safeParseResource(doc);
    if (!r.success) {
      this.#log.error({ key: encodeKey(item.key) }, `stored resource is not valid and is ignored: ${r.error.message}`);
      return undefined;
    }
    return { resource: r.data, inputs: compileInputs(r.data) };
  }
}
