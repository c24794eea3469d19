import { toItem, type Mutation } from './entry.js';
import type { History } from './history.js';
import { decodeKey } from './key.js';
import type { StoreLogger } from './logger.js';
import type { Watch, WatchEvent } from './store.js';

interface Watcher {
  /** Encoded-key prefix the watcher selects. */
  readonly prefix: string;
  readonly onEvent: (event: WatchEvent) => void;
  /** The lowest revision not yet delivered (or skipped by the filter). */
  next: number;
  closed: boolean;
}

/**
 * Delivers committed mutations to watchers, in revision order, each exactly once.
 *
 * Delivery runs from one queue of tasks drained in a microtask, never inside the mutating
 * call: a callback that writes to the store (re-entrancy) only queues more work, so every
 * watcher still sees events in the same order. A new watcher first replays history (which
 * already holds every committed mutation, including those whose delivery is still queued),
 * and `next` drops what it then sees again live.
 */
export class WatchHub {
  readonly #history: History;
  readonly #currentRevision: () => number;
  readonly #logger: StoreLogger;
  readonly #watchers = new Set<Watcher>();
  #tasks: (() => void)[] = [];
  #scheduled = false;

  constructor(history: History, currentRevision: () => number, logger: StoreLogger) {
    this.#history = history;
    this.#currentRevision = currentRevision;
    this.#logger = logger;
  }

  /** Starts a watch from `fromRevision` over keys starting with `prefix`. */
  watch(fromRevision: number, prefix: string, onEvent: (event: WatchEvent) => void): Watch {
    const w: Watcher = { prefix, onEvent, next: fromRevision, closed: false };
    this.#enqueue(() => {
      if (w.closed) return;
      const past = this.#history.since(w.next);
      if (past === undefined) {
        w.closed = true;
        this.#deliver(w, { type: 'compacted', compactRevision: this.#history.compactRevision, revision: this.#currentRevision() });
        return;
      }
      this.#watchers.add(w);
      this.#send(w, past);
    });
    return {
      close: () => {
        w.closed = true;
        this.#watchers.delete(w);
        return Promise.resolve();
      },
    };
  }

  /** Delivers `mutations` (just committed, in order) to every live watcher. */
  publish(mutations: readonly Mutation[]): void {
    if (this.#watchers.size === 0 && this.#tasks.length === 0) return;
    this.#enqueue(() => {
      for (const w of this.#watchers) this.#send(w, mutations);
    });
  }

  /** Ends every watch with an `error` event (the backend failed). */
  fail(error: Error): void {
    this.#enqueue(() => {
      for (const w of this.#watchers) {
        this.#watchers.delete(w);
        if (!w.closed) {
          w.closed = true;
          this.#deliver(w, { type: 'error', error });
        }
      }
    });
  }

  /** Ends every watch silently and drops queued deliveries (the store is closing). */
  closeAll(): void {
    for (const w of this.#watchers) w.closed = true;
    this.#watchers.clear();
    this.#tasks = [];
  }

  #send(w: Watcher, mutations: readonly Mutation[]): void {
    for (const m of mutations) {
      if (w.closed) return;
      if (m.revision < w.next) continue;
      w.next = m.revision + 1;
      const key = m.type === 'put' ? m.entry.key : m.key;
      if (!key.startsWith(w.prefix)) continue;
      this.#deliver(
        w,
        m.type === 'put'
          ? { type: 'put', revision: m.revision, item: toItem(m.entry) }
          : { type: 'delete', revision: m.revision, key: decodeKey(m.key), prevItem: toItem(m.prev) },
      );
    }
  }

  #deliver(w: Watcher, event: WatchEvent): void {
    try {
      w.onEvent(event);
    } catch (err) {
      this.#logger.error({ err, prefix: w.prefix }, 'store watch callback threw; delivery goes on');
    }
  }

  #enqueue(task: () => void): void {
    this.#tasks.push(task);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.#drain());
  }

  #drain(): void {
    // Tasks queued while draining (a callback that writes) run in this same loop, in order.
    try {
      for (let i = 0; i < this.#tasks.length; i++) this.#tasks[i]?.();
    } finally {
      this.#tasks = [];
      this.#scheduled = false;
    }
  }
}
