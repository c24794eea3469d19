import type { Clock } from './clock.js';

/**
 * A token bucket as RateLimitPolicy defines it: it holds at most `capacity` tokens (the
 * policy's `burst`) and gains `tokensPerFill` (the policy's `tokens`) every
 * `fillIntervalMs`, in whole fills at fixed times from the bucket's creation, as Envoy's
 * local rate limit does. Fills at fixed times make the reset time exact: it is when the
 * next fill lands, which is what `RateLimit: ...;t=` and `x-ratelimit-reset` announce.
 */
export interface BucketSpec {
  readonly capacity: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/** The mutable part of one bucket: kept apart from the spec so that many keys share a spec. */
export interface BucketState {
  tokens: number;
  /** Time of the last fill (or creation); fills land at `lastFillAt + k * fillIntervalMs`. */
  lastFillAt: number;
}

/** What a take answers. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Tokens left after this take (or, refused, left untouched). */
  readonly remaining: number;
  /** Time until the next fill, in ms; 0 when the bucket is full and gains nothing by waiting. */
  readonly resetMs: number;
  /**
   * Refused: time until enough tokens will be there, in ms (for `retry-after`);
   * `Infinity` when more is asked than the bucket can ever hold. Allowed: 0.
   */
  readonly retryAfterMs: number;
}

/** Checks a spec once, at config time, so that takes need no checks. */
export const checkBucketSpec = (spec: BucketSpec): BucketSpec => {
  const whole = (n: number): boolean => Number.isSafeInteger(n) && n >= 1;
  if (!whole(spec.capacity) || !whole(spec.tokensPerFill) || !whole(spec.fillIntervalMs)) {
    throw new RangeError(`token bucket: capacity, tokensPerFill and fillIntervalMs must be whole numbers >= 1 (got ${JSON.stringify(spec)})`);
  }
  return spec;
};

/** A full bucket created at `now`. */
export const newBucketState = (spec: BucketSpec, now: number): BucketState => ({ tokens: spec.capacity, lastFillAt: now });

/** Adds the fills that landed since the last one; a clock that went back adds nothing. */
export const refill = (state: BucketState, spec: BucketSpec, now: number): void => {
  const elapsed = now - state.lastFillAt;
  if (elapsed < spec.fillIntervalMs) return;
  const fills = Math.floor(elapsed / spec.fillIntervalMs);
  state.lastFillAt += fills * spec.fillIntervalMs;
  // `fills * tokensPerFill` can exceed 2^53 after a very long idle time: cap before multiplying.
  const room = spec.capacity - state.tokens;
  state.tokens = fills >= Math.ceil(room / spec.tokensPerFill) ? spec.capacity : state.tokens + fills * spec.tokensPerFill;
};

/** Time until the next fill, or 0 when full. Call after {@link refill}. */
export const resetInMs = (state: BucketState, spec: BucketSpec, now: number): number =>
  state.tokens >= spec.capacity ? 0 : Math.max(0, state.lastFillAt + spec.fillIntervalMs - now);

/** Takes `n` tokens if all are there; otherwise takes none. */
export const take = (state: BucketState, spec: BucketSpec, now: number, n: number): TakeResult => {
  refill(state, spec, now);
  if (n <= state.tokens) {
    state.tokens -= n;
    return { allowed: true, remaining: state.tokens, resetMs: resetInMs(state, spec, now), retryAfterMs: 0 };
  }
  const resetMs = resetInMs(state, spec, now);
  let retryAfterMs = Infinity;
  if (n <= spec.capacity) {
    const fillsNeeded = Math.ceil((n - state.tokens) / spec.tokensPerFill);
    retryAfterMs = resetMs + (fillsNeeded - 1) * spec.fillIntervalMs;
  }
  return { allowed: false, remaining: state.tokens, resetMs, retryAfterMs };
};

/** One token bucket with its own clock. */
export class TokenBucket {
  readonly spec: BucketSpec;
  readonly #clock: Clock;
  readonly #state: BucketState;

  constructor(spec: BucketSpec, clock: Clock) {
    this.spec = checkBucketSpec(spec);
    this.#clock = clock;
    this.#state = newBucketState(spec, clock.now());
  }

  /** Takes `n` tokens (default 1) if they are all there. */
  tryTake(n = 1): TakeResult {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`token bucket: n must be a whole number >= 1 (got ${n})`);
    return take(this.#state, this.spec, this.#clock.now(), n);
  }

  /** Tokens there now (after any fills due), without taking any. */
  available(): number {
    refill(this.#state, this.spec, this.#clock.now());
    return this.#state.tokens;
  }
}
