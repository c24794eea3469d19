import type { JsonObject } from './json.js';
import type { KeyFilter, StoreKey } from './key.js';

/**
 * One stored document as a reader sees it. `value` is the reader's own copy: mutating it
 * never changes the store.
 *
 * Revisions work as in etcd: the store has one counter that every mutation advances;
 * `createRevision` is the revision that created the item (it changes when a key is deleted
 * and created again), `modRevision` the revision of its latest update, which is what
 * `expectedRevision` is compared with.
 */
export interface StoredItem {
  readonly key: StoreKey;
  readonly value: JsonObject;
  readonly createRevision: number;
  readonly modRevision: number;
}

/** The items a filter selects, ordered by encoded key, and the store revision they were read at. */
export interface ListResult {
  readonly items: StoredItem[];
  readonly revision: number;
}

/** What `delete` removed, and the revision of the deletion. */
export interface DeleteResult {
  readonly revision: number;
  readonly prevItem: StoredItem;
}

/**
 * What a watcher receives, in revision order.
 *
 * - `put`: `item` was created (`item.createRevision === revision`) or updated.
 * - `delete`: `key` was deleted; `prevItem` is what it held.
 * - `compacted`: the watch asked for revisions the store no longer remembers (older than
 *   `compactRevision + 1`). Terminal: list again and watch from the list's `revision + 1`.
 * - `error`: the backend failed and the watch cannot continue (a file store whose disk
 *   failed, an etcd watch cancelled). Terminal: handle as `compacted`, once the store works.
 */
export type WatchEvent =
  | { readonly type: 'put'; readonly revision: number; readonly item: StoredItem }
  | { readonly type: 'delete'; readonly revision: number; readonly key: StoreKey; readonly prevItem: StoredItem }
  | { readonly type: 'compacted'; readonly compactRevision: number; readonly revision: number }
  | { readonly type: 'error'; readonly error: Error };

/** A running watch. */
export interface Watch {
  /** Stops delivery at once (no event is delivered after this call); resolves when the backend has cancelled it. */
  close(): Promise<void>;
}

/**
 * Plain persistence of JSON documents with revisions and watches: the contract every backend
 * (memory, embedded file, etcd) implements and `test/store-contract.ts` checks. Validation,
 * defaults and references belong to the manager above; the store only checks that keys are
 * well formed and values are JSON objects within a size limit.
 *
 * All methods are asynchronous, because a networked backend needs it. Errors are
 * `StoreError`s with stable codes. Revisions increase strictly but callers must not assume
 * they are contiguous (an etcd cluster shared with other data skips numbers).
 *
 * The usual reader: `const { items, revision } = await store.list({ kind })`, then
 * `store.watch(revision + 1, onEvent, { kind })`; on `compacted` or `error`, start over.
 */
export interface Store {
  /** The item at `key`, or `undefined`. */
  get(key: StoreKey): Promise<StoredItem | undefined>;

  /** Every item the filter selects, ordered by encoded key (`kind/namespace/name`, byte order). */
  list(filter?: KeyFilter): Promise<ListResult>;

  /** Stores a new item; `WEFT_ERR_STORE_ALREADY_EXISTS` (409) if the key exists. Resolves once durable. */
  create(key: StoreKey, value: JsonObject): Promise<StoredItem>;

  /**
   * Replaces the value of an existing item; `WEFT_ERR_STORE_NOT_FOUND` (404) if there is none,
   * `WEFT_ERR_STORE_CONFLICT` (409) if `expectedRevision` is given and is not its
   * `modRevision`. Of several writers racing with the same expected revision exactly one wins.
   */
  update(key: StoreKey, value: JsonObject, expectedRevision?: number): Promise<StoredItem>;

  /** Deletes an item; `WEFT_ERR_STORE_NOT_FOUND` if absent, `WEFT_ERR_STORE_CONFLICT` as for `update`. */
  delete(key: StoreKey, expectedRevision?: number): Promise<DeleteResult>;

  /** The current store revision: that of the latest durable mutation (0 for a new store). */
  revision(): Promise<number>;

  /**
   * Delivers every mutation with revision `>= fromRevision` whose key the filter selects, in
   * revision order, asynchronously (never from inside this call), first those already
   * remembered, then new ones as they become durable. `onEvent` should not throw (a throw is
   * logged and delivery goes on). Throws `WEFT_ERR_STORE_INVALID_REVISION` unless
   * `fromRevision` is an integer >= 1.
   */
  watch(fromRevision: number, onEvent: (event: WatchEvent) => void, filter?: KeyFilter): Watch;

  /**
   * Waits for writes already accepted to become durable, ends every watch (without an event)
   * and releases the backend. Later calls fail with `WEFT_ERR_STORE_CLOSED`. Idempotent.
   */
  close(): Promise<void>;
}
