import type { Clock } from './clock.js';
import { KeyedBuckets } from './keyed-buckets.js';
import { rateLimitKeyOf, type RateLimitKeySpec, type RateLimitSubject } from './rate-limit-key.js';

/** One limit of a RateLimitPolicy, in the snapshot's units. */
export interface RateLimitSpec {
  /** Names the limit in `RateLimit` headers and metrics. */
  readonly name: string;
  /** Tokens added every `intervalMs`. */
  readonly tokens: number;
  readonly intervalMs: number;
  /** Bucket capacity (the policy's `burst`, default `tokens`). */
  readonly burst: number;
  readonly key: RateLimitKeySpec;
}

/** The state of one limit after a check, for the response headers. */
export interface LimitReading {
  readonly name: string;
  readonly tokens: number;
  readonly intervalMs: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/** What {@link RateLimiter.check} answers. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Every limit, in policy order. */
  readonly limits: readonly LimitReading[];
  /** Refused: the first limit that refused. */
  readonly refusedBy?: string;
  /** Refused: time until the refusing bucket has a token again, in ms (for `retry-after`). */
  readonly retryAfterMs: number;
}

/**
 * The limits of one RateLimitPolicy together: a request takes one token from the bucket of
 * its key in every limit, or from none of them when any is empty, so that a request refused
 * by one limit does not use up the others.
 */
export class RateLimiter {
  readonly #limits: readonly { readonly spec: RateLimitSpec; readonly buckets: KeyedBuckets }[];

  constructor(specs: readonly RateLimitSpec[], options: { readonly clock: Clock; readonly maxKeys?: number }) {
    if (specs.length === 0) throw new RangeError('rate limiter: at least one limit is needed');
    this.#limits = specs.map((spec) => ({
      spec,
      buckets: new KeyedBuckets(
        { capacity: spec.burst, tokensPerFill: spec.tokens, fillIntervalMs: spec.intervalMs },
        { clock: options.clock, ...(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys }) },
      ),
    }));
  }

  /** Admits or refuses one request, taking its tokens when admitted. */
  check(subject: RateLimitSubject): RateLimitDecision {
    const keys = this.#limits.map((l) => rateLimitKeyOf(l.spec.key, subject));
    const peeked = this.#limits.map((l, i) => l.buckets.peek(keys[i] ?? ''));
    const refusing = peeked.findIndex((p) => p.remaining < 1);
    if (refusing >= 0) {
      const readings = this.#limits.map((l, i) => reading(l.spec, peeked[i]?.remaining ?? 0, peeked[i]?.resetMs ?? 0));
      // One token short: the next fill brings it (every fill adds at least one).
      const retryAfterMs = peeked[refusing]?.resetMs ?? 0;
      return { allowed: false, limits: readings, refusedBy: this.#limits[refusing]?.spec.name ?? '', retryAfterMs };
    }
    const readings = this.#limits.map((l, i) => {
      const r = l.buckets.tryTake(keys[i] ?? '');
      return reading(l.spec, r.remaining, r.resetMs);
    });
    return { allowed: true, limits: readings, retryAfterMs: 0 };
  }

  /** Drops refilled buckets of every limit (call on a timer); returns how many. */
  sweep(): number {
    return this.#limits.reduce((n, l) => n + l.buckets.sweep(), 0);
  }

  /** Keys held, over all limits. */
  get size(): number {
    return this.#limits.reduce((n, l) => n + l.buckets.size, 0);
  }
}

const reading = (spec: RateLimitSpec, remaining: number, resetMs: number): LimitReading => ({
  name: spec.name,
  tokens: spec.tokens,
  intervalMs: spec.intervalMs,
  remaining,
  resetMs,
});
