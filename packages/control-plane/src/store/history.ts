import type { Mutation } from './entry.js';

/** Bounds of the watch history. */
export interface HistoryLimits {
  /** At most this many mutations are remembered (default 10,000). */
  readonly maxEvents?: number;
  /** At most about this many bytes of values are remembered (default 64 MiB). */
  readonly maxBytes?: number;
}

/**
 * The most recent mutations, so that a watcher can resume from a revision it already saw.
 * Invariant: every mutation with revision in `(compactRevision, latest]` is held, in order;
 * older ones are forgotten, and a watch that needs them gets `compacted`. Bounded by count
 * and by bytes, so that a burst of large values cannot hold unbounded memory.
 */
export class History {
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  /** Held mutations are `#events[#head..]`; dropped slots are cleared and the array is trimmed now and then. */
  #events: (Mutation | undefined)[] = [];
  #weights: number[] = [];
  #head = 0;
  #bytes = 0;
  #compactRevision = 0;

  constructor(limits: HistoryLimits = {}) {
    this.#maxEvents = Math.max(1, limits.maxEvents ?? 10_000);
    this.#maxBytes = Math.max(1, limits.maxBytes ?? 64 * 1024 * 1024);
  }

  /** The newest revision no longer held (0 while nothing has been forgotten). */
  get compactRevision(): number {
    return this.#compactRevision;
  }

  /** Forgets everything up to and including `revision` (a store loaded from a snapshot). */
  reset(revision: number): void {
    this.#events = [];
    this.#weights = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#compactRevision = revision;
  }

  /** Remembers `m` (revisions must increase), forgetting the oldest beyond the bounds. */
  push(m: Mutation, weight: number): void {
    this.#events.push(m);
    this.#weights.push(weight);
    this.#bytes += weight;
    while (this.#events.length - this.#head > 1 && (this.#events.length - this.#head > this.#maxEvents || this.#bytes > this.#maxBytes)) {
      this.#dropOldest();
    }
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#weights = this.#weights.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The held mutations with revision >= `fromRevision`, or `undefined` if some of them were forgotten. */
  since(fromRevision: number): Mutation[] | undefined {
    if (fromRevision <= this.#compactRevision) return undefined;
    let lo = this.#head;
    let hi = this.#events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#events[mid]?.revision ?? 0) < fromRevision) lo = mid + 1;
      else hi = mid;
    }
    return this.#events.slice(lo).filter((m): m is Mutation => m !== undefined);
  }

  #dropOldest(): void {
    const m = this.#events[this.#head];
    const w = this.#weights[this.#head] ?? 0;
    if (m === undefined) return;
    this.#events[this.#head] = undefined;
    this.#head++;
    this.#bytes -= w;
    this.#compactRevision = m.revision;
  }
}
