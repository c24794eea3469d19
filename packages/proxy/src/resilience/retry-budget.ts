import type { Clock } from './clock.js';

/** A retry budget in the snapshot's units (DestinationPolicy `retryBudget`). */
export interface RetryBudgetSpec {
  /** Retries allowed as a share of requests, 0 to 1. */
  readonly ratio: number;
  /** Retries always allowed per second, whatever the ratio. */
  readonly minRetriesPerSecond: number;
  /** Window over which requests and retries are counted. */
  readonly ttlMs: number;
}

/** The Mesh's default budget: 20% of requests plus 10 retries a second, over 10 s. */
export const DEFAULT_RETRY_BUDGET: RetryBudgetSpec = { ratio: 0.2, minRetriesPerSecond: 10, ttlMs: 10_000 };

/** Slices of the window; the window slides by one slice at a time. */
const SLICES = 10;

/**
 * A retry budget as Linkerd's (Finagle's `RetryBudget`): each original request deposits,
 * each retry withdraws, and a retry is allowed while the retries of the last `ttl` stay
 * below `ratio` × the requests of the last `ttl` plus a floor of `minRetriesPerSecond` ×
 * `ttl` (in seconds), so that a service with little traffic can still retry, and one in
 * trouble cannot multiply its load by more than `1 + ratio`.
 *
 * The window slides in ten slices: counts older than `ttl` drop out a slice at a time.
 */
export class RetryBudget {
  readonly spec: RetryBudgetSpec;
  readonly #clock: Clock;
  readonly #sliceMs: number;
  readonly #floor: number;
  readonly #requests = new Float64Array(SLICES);
  readonly #retries = new Float64Array(SLICES);
  /** The slice number (time / sliceMs) each slot last counted for. */
  readonly #epochs = new Float64Array(SLICES).fill(-Infinity);

  constructor(spec: RetryBudgetSpec, clock: Clock) {
    if (!(spec.ratio >= 0 && spec.ratio <= 1)) throw new RangeError(`retry budget: ratio must be from 0 to 1 (got ${spec.ratio})`);
    if (!(spec.minRetriesPerSecond >= 0) || !(spec.ttlMs >= SLICES)) {
      throw new RangeError(`retry budget: minRetriesPerSecond must be >= 0 and ttlMs >= ${SLICES} (got ${JSON.stringify(spec)})`);
    }
    this.spec = spec;
    this.#clock = clock;
    this.#sliceMs = spec.ttlMs / SLICES;
    this.#floor = (spec.minRetriesPerSecond * spec.ttlMs) / 1000;
  }

  /** Counts one original request (not a retry). */
  deposit(): void {
    const slot = this.#slot();
    this.#requests[slot] = (this.#requests[slot] ?? 0) + 1;
  }

  /** Takes one retry from the budget if there is room; false means: do not retry. */
  tryWithdraw(): boolean {
    const slot = this.#slot();
    if (!this.#hasRoom()) return false;
    this.#retries[slot] = (this.#retries[slot] ?? 0) + 1;
    return true;
  }

  /** Retries still allowed now (rounded down), for metrics. */
  get remaining(): number {
    this.#slot();
    const { requests, retries } = this.#totals();
    return Math.max(0, Math.floor(this.spec.ratio * requests + this.#floor - retries + 1e-9));
  }

  #hasRoom(): boolean {
    const { requests, retries } = this.#totals();
    // The tolerance absorbs binary rounding of the ratio (0.1 * 30 is 3.0000000000000004).
    return retries + 1 <= this.spec.ratio * requests + this.#floor + 1e-9;
  }

  #totals(): { requests: number; retries: number } {
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < SLICES; i++) {
      requests += this.#requests[i] ?? 0;
      retries += this.#retries[i] ?? 0;
    }
    return { requests, retries };
  }

  /** The slot of the current slice, after clearing every slot that fell out of the window. */
  #slot(): number {
    const epoch = Math.floor(this.#clock.now() / this.#sliceMs);
    for (let i = 0; i < SLICES; i++) {
      const slotEpoch = this.#epochs[i] ?? -Infinity;
      if (slotEpoch <= epoch - SLICES) {
        this.#requests[i] = 0;
        this.#retries[i] = 0;
        this.#epochs[i] = -Infinity;
      }
    }
    const slot = ((epoch % SLICES) + SLICES) % SLICES;
    if (this.#epochs[slot] !== epoch) {
      this.#requests[slot] = 0;
      this.#retries[slot] = 0;
      this.#epochs[slot] = epoch;
    }
    return slot;
  }
}
