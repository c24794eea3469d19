import type { Clock } from './clock.js';
import { checkBucketSpec, newBucketState, refill, resetInMs, take, type BucketSpec, type BucketState, type TakeResult } from './token-bucket.js';

/** Options of {@link KeyedBuckets}. */
export interface KeyedBucketsOptions {
  readonly clock: Clock;
  /** Most keys kept at once (default 65 536); past it, the least recently used key is dropped. */
  readonly maxKeys?: number;
}

export const DEFAULT_MAX_KEYS = 65_536;

/**
 * Token buckets kept per key (a caller identity, a header value), bounded in number so
 * that a flood of distinct keys cannot grow memory without bound.
 *
 * Keys are kept in least-recently-used order (a Map re-inserted on use). A new key past
 * `maxKeys` drops the least recently used one. A bucket idle long enough to have refilled
 * is the same as a new bucket, so dropping it loses nothing; a flood of new keys can only
 * drop buckets that are not yet full when the whole table is busier than `maxKeys` keys
 * in one refill period, which `evictedNotFull` counts so that it can be seen and `maxKeys`
 * raised. {@link sweep} drops refilled buckets from the idle end, cheaply, on a timer.
 */
export class KeyedBuckets {
  readonly spec: BucketSpec;
  readonly maxKeys: number;
  readonly #clock: Clock;
  readonly #buckets = new Map<string, BucketState>();
  #evicted = 0;
  #evictedNotFull = 0;

  constructor(spec: BucketSpec, options: KeyedBucketsOptions) {
    this.spec = checkBucketSpec(spec);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`keyed buckets: maxKeys must be a whole number >= 1 (got ${maxKeys})`);
    this.maxKeys = maxKeys;
    this.#clock = options.clock;
  }

  /** Keys held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Keys dropped to make room, in all. */
  get evicted(): number {
    return this.#evicted;
  }

  /** Of {@link evicted}, those whose bucket had not refilled: each let its key start afresh early. */
  get evictedNotFull(): number {
    return this.#evictedNotFull;
  }

  /** Takes `n` tokens (default 1) from the bucket of `key` if they are all there. */
  tryTake(key: string, n = 1): TakeResult {
    const now = this.#clock.now();
    return take(this.#use(key, now), this.spec, now, n);
  }

  /**
   * Tokens in the bucket of `key` now and the time to its next fill, without taking any. A
   * key held counts as used (a caller refused again and again must not become the least
   * recently used key and get a fresh bucket); a key not held is not added, and reads as a
   * full bucket.
   */
  peek(key: string): { readonly remaining: number; readonly resetMs: number } {
    const state = this.#buckets.get(key);
    if (state === undefined) return { remaining: this.spec.capacity, resetMs: 0 };
    this.#buckets.delete(key);
    this.#buckets.set(key, state);
    const now = this.#clock.now();
    refill(state, this.spec, now);
    return { remaining: state.tokens, resetMs: resetInMs(state, this.spec, now) };
  }

  /**
   * Drops refilled buckets from the least recently used end, stopping at the first one
   * still refilling: the cost is the number dropped plus one. Returns how many were dropped.
   */
  sweep(): number {
    const now = this.#clock.now();
    let dropped = 0;
    for (const [key, state] of this.#buckets) {
      refill(state, this.spec, now);
      if (state.tokens < this.spec.capacity) break;
      this.#buckets.delete(key);
      dropped++;
    }
    return dropped;
  }

  #use(key: string, now: number): BucketState {
    const found = this.#buckets.get(key);
    if (found !== undefined) {
      // Re-insert to move the key to the most recently used end.
      this.#buckets.delete(key);
      this.#buckets.set(key, found);
      return found;
    }
    if (this.#buckets.size >= this.maxKeys) this.#evictOldest(now);
    const state = newBucketState(this.spec, now);
    this.#buckets.set(key, state);
    return state;
  }

  #evictOldest(now: number): void {
    const oldest = this.#buckets.entries().next();
    if (oldest.done === true) return;
    const [key, state] = oldest.value;
    refill(state, this.spec, now);
    if (state.tokens < this.spec.capacity) this.#evictedNotFull++;
    this.#evicted++;
    this.#buckets.delete(key);
  }
}
