import { alreadyExists, conflict, notFound } from './errors.js';
import { mutationWeight, type Entry, type Mutation } from './entry.js';
import { History, type HistoryLimits } from './history.js';
import type { StoreLogger } from './logger.js';
import { WatchHub } from './watch-hub.js';

/** A write as a caller asks for it, with the key encoded and the value already checked and serialized. */
export type WriteRequest =
  | { readonly op: 'create'; readonly key: string; readonly json: string }
  | { readonly op: 'update'; readonly key: string; readonly json: string; readonly expectedRevision?: number | undefined }
  | { readonly op: 'delete'; readonly key: string; readonly expectedRevision?: number | undefined };

/**
 * The in-memory state machine both local backends share: items, revisions, history, watches.
 *
 * Writes happen in two steps so that a backend can make them durable in between:
 * `prepare` checks a request against the latest state (including writes prepared but not yet
 * committed, so that two racing updates with the same expected revision cannot both pass)
 * and assigns its revision; `commit` makes prepared mutations visible to readers and
 * watchers, in revision order. Readers only ever see committed state: nothing a reader or
 * watcher saw can be lost by a crash.
 */
export class Keyspace {
  readonly #items = new Map<string, Entry>();
  /** The latest prepared-but-uncommitted state of each key it touches (`undefined`: deleted). */
  readonly #pending = new Map<string, { revision: number; entry: Entry | undefined }>();
  readonly #history: History;
  readonly #hub: WatchHub;
  #revision = 0;
  #nextRevision = 1;

  constructor(options: { history?: HistoryLimits; logger: StoreLogger }) {
    this.#history = new History(options.history);
    this.#hub = new WatchHub(this.#history, () => this.#revision, options.logger);
  }

  /** The revision of the latest committed mutation. */
  get revision(): number {
    return this.#revision;
  }

  /** Delivery of committed mutations to watchers. */
  get hub(): WatchHub {
    return this.#hub;
  }

  /** Number of committed items. */
  get size(): number {
    return this.#items.size;
  }

  /** The committed entry at `key`. */
  get(key: string): Entry | undefined {
    return this.#items.get(key);
  }

  /** Committed entries whose key starts with `prefix`, in key order. */
  list(prefix: string): Entry[] {
    const out: Entry[] = [];
    for (const e of this.#items.values()) if (e.key.startsWith(prefix)) out.push(e);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Every committed entry, unordered (for snapshots). */
  entries(): IterableIterator<Entry> {
    return this.#items.values();
  }

  /** Checks `req` against the latest state and assigns it the next revision; throws `StoreError` on 404/409. */
  prepare(req: WriteRequest): Mutation {
    const { key } = req;
    const pending = this.#pending.get(key);
    const current = pending === undefined ? this.#items.get(key) : pending.entry;
    const revision = this.#nextRevision;
    let m: Mutation;
    if (req.op === 'create') {
      if (current !== undefined) throw alreadyExists(key);
      m = { type: 'put', revision, entry: { key, json: req.json, createRevision: revision, modRevision: revision } };
    } else {
      if (current === undefined) throw notFound(key);
      if (req.expectedRevision !== undefined && req.expectedRevision !== current.modRevision) {
        throw conflict(key, req.expectedRevision, current.modRevision);
      }
      m =
        req.op === 'update'
          ? { type: 'put', revision, entry: { key, json: req.json, createRevision: current.createRevision, modRevision: revision } }
          : { type: 'delete', revision, key, prev: current };
    }
    this.#nextRevision++;
    this.#pending.set(key, { revision, entry: m.type === 'put' ? m.entry : undefined });
    return m;
  }

  /** Makes prepared mutations (in revision order) visible and delivers them to watchers. */
  commit(mutations: readonly Mutation[]): void {
    for (const m of mutations) {
      this.apply(m);
      const key = m.type === 'put' ? m.entry.key : m.key;
      if (this.#pending.get(key)?.revision === m.revision) this.#pending.delete(key);
    }
    this.#hub.publish(mutations);
  }

  /**
   * Applies one mutation to the committed state and history without delivering it (log
   * replay on open, before any watcher exists). Revisions must follow each other.
   */
  apply(m: Mutation): void {
    if (m.revision !== this.#revision + 1) {
      throw new Error(`keyspace: mutation at revision ${m.revision} after ${this.#revision}`);
    }
    if (m.type === 'put') this.#items.set(m.entry.key, m.entry);
    else this.#items.delete(m.key);
    this.#revision = m.revision;
    if (this.#nextRevision <= m.revision) this.#nextRevision = m.revision + 1;
    this.#history.push(m, mutationWeight(m));
  }

  /** Replaces the whole state with a snapshot's `entries` at `revision`; history starts there. */
  load(entries: Iterable<Entry>, revision: number): void {
    this.#items.clear();
    for (const e of entries) this.#items.set(e.key, e);
    this.#revision = revision;
    this.#nextRevision = revision + 1;
    this.#history.reset(revision);
  }
}
