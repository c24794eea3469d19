import { assertRevision, closedError, type StoreError } from './errors.js';
import { toItem, type Mutation } from './entry.js';
import type { HistoryLimits } from './history.js';
import { DEFAULT_MAX_VALUE_BYTES, encodeValue, type JsonObject } from './json.js';
import { encodeKey, filterPrefix, type KeyFilter, type StoreKey } from './key.js';
import { Keyspace, type WriteRequest } from './keyspace.js';
import type { StoreLogger } from './logger.js';
import type { DeleteResult, ListResult, Store, StoredItem, Watch, WatchEvent } from './store.js';

/** Options every in-process backend takes. */
export interface LocalStoreOptions {
  /** How much history watchers can resume from (default 10,000 mutations, 64 MiB). */
  readonly history?: HistoryLimits;
  /** Largest accepted value, in bytes of JSON (default 1 MiB). */
  readonly maxValueBytes?: number;
  /** Where warnings go (default: a `component: store` child of the default logger). */
  readonly logger?: StoreLogger;
}

/**
 * The `Store` contract over a `Keyspace`, for backends that hold the whole state in this
 * process: argument checks, reads, and the write path up to `persist`, which each backend
 * implements (the memory store commits at once; the file store after an fsync).
 */
export abstract class LocalStore implements Store {
  /** The state machine, for the backend's `persist` and recovery. */
  protected readonly keyspace: Keyspace;
  readonly #maxValueBytes: number;
  #closing: Promise<void> | undefined;
  #failure: StoreError | undefined;

  protected constructor(options: LocalStoreOptions & { readonly logger: StoreLogger }) {
    this.keyspace = new Keyspace({ logger: options.logger, ...(options.history ? { history: options.history } : {}) });
    this.#maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  /**
   * Makes the prepared mutation `m` durable and commits it to `keyspace` (mutations must be
   * committed in the order they were prepared), then resolves.
   */
  protected abstract persist(m: Mutation): Promise<void>;

  /** Finishes accepted writes and releases the backend's resources. */
  protected abstract shutdown(): Promise<void>;

  /** Stops accepting writes for good (the backend can no longer make them durable) and ends watches with `error`. */
  protected fail(error: StoreError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.keyspace.hub.fail(error);
  }

  async get(key: StoreKey): Promise<StoredItem | undefined> {
    this.#checkOpen();
    const e = this.keyspace.get(encodeKey(key));
    return e === undefined ? undefined : toItem(e);
  }

  async list(filter?: KeyFilter): Promise<ListResult> {
    this.#checkOpen();
    const entries = this.keyspace.list(filterPrefix(filter));
    return { items: entries.map(toItem), revision: this.keyspace.revision };
  }

  async create(key: StoreKey, value: JsonObject): Promise<StoredItem> {
    const m = await this.#write({ op: 'create', key: encodeKey(key), json: encodeValue(value, this.#maxValueBytes) });
    return toItem(m.type === 'put' ? m.entry : m.prev);
  }

  async update(key: StoreKey, value: JsonObject, expectedRevision?: number): Promise<StoredItem> {
    if (expectedRevision !== undefined) assertRevision(expectedRevision, 'expectedRevision');
    const json = encodeValue(value, this.#maxValueBytes);
    const m = await this.#write({ op: 'update', key: encodeKey(key), json, expectedRevision });
    return toItem(m.type === 'put' ? m.entry : m.prev);
  }

  async delete(key: StoreKey, expectedRevision?: number): Promise<DeleteResult> {
    if (expectedRevision !== undefined) assertRevision(expectedRevision, 'expectedRevision');
    const m = await this.#write({ op: 'delete', key: encodeKey(key), expectedRevision });
    return { revision: m.revision, prevItem: toItem(m.type === 'delete' ? m.prev : m.entry) };
  }

  async revision(): Promise<number> {
    this.#checkOpen();
    return this.keyspace.revision;
  }

  watch(fromRevision: number, onEvent: (event: WatchEvent) => void, filter?: KeyFilter): Watch {
    this.#checkOpen();
    assertRevision(fromRevision, 'fromRevision');
    return this.keyspace.hub.watch(fromRevision, filterPrefix(filter), onEvent);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.shutdown();
      } finally {
        this.keyspace.hub.closeAll();
      }
    })();
    return this.#closing;
  }

  /** True once `close()` was called. */
  protected get closing(): boolean {
    return this.#closing !== undefined;
  }

  async #write(req: WriteRequest): Promise<Mutation> {
    this.#checkOpen();
    if (this.#failure !== undefined) throw this.#failure;
    const m = this.keyspace.prepare(req);
    await this.persist(m);
    return m;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw closedError();
  }
}
