/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** Cap of the first delay, in ms (default 100). */
  readonly baseMs?: number;
  /** Largest cap, in ms (default 10 000). */
  readonly maxMs?: number;
  /** Uniform random number in [0, 1) (tests pass a fixed one). */
  readonly random?: () => number;
}

/**
 * Exponential backoff with full jitter: the n-th delay (from 0) is uniform in
 * `[0, min(maxMs, baseMs * 2^n))`. Full jitter spreads the reconnects of a whole fleet of
 * proxies after a control-plane restart over the window instead of synchronizing them into
 * waves (see "Exponential Backoff And Jitter", AWS Architecture Blog).
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#baseMs = options.baseMs ?? 100;
    this.#maxMs = Math.max(this.#baseMs, options.maxMs ?? 10_000);
    this.#random = options.random ?? Math.random;
  }

  /** The cap of the next delay (its upper bound), in ms. */
  get cap(): number {
    return Math.min(this.#maxMs, this.#baseMs * 2 ** this.#attempt);
  }

  /** Delays handed out since the last {@link reset}. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay, in whole ms; each call doubles the cap up to `maxMs`. */
  next(): number {
    const cap = this.cap;
    // Past the cap, stop counting: 2^n would overflow to Infinity after ~1000 attempts.
    if (cap < this.#maxMs) this.#attempt++;
    return Math.floor(this.#random() * cap);
  }

  /** Back to the first delay (after a connection that worked). */
  reset(): void {
    this.#attempt = 0;
  }
}
