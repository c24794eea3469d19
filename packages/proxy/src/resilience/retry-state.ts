import type { Random } from './clock.js';
import type { CircuitBreaker, BreakerLease } from './circuit-breaker.js';
import type { RetryBudget } from './retry-budget.js';
import { decideRetry, type AttemptFacts, type CompiledRetryPolicy, type RetryDecision } from './retry-policy.js';

/** What one request's retries draw on. */
export interface RetryStateOptions {
  /** The destination's retry budget; the caller deposits once per original request. */
  readonly budget?: RetryBudget | undefined;
  /** The destination's breaker, for its limit of concurrent retries. */
  readonly breaker?: CircuitBreaker | undefined;
  readonly random: Random;
}

/**
 * The retry bookkeeping of one request: how many retries it made, and the concurrent-retry
 * slot its retry in flight holds. Call {@link afterAttempt} when each attempt ends; when it
 * answers `retry`, wait `delayMs` and send the next attempt; call {@link finish} when the
 * request is done, whatever way it ends.
 *
 * A retry takes a slot of `connectionPool.maxRetries` first, then a token of the budget,
 * so that a retry refused by the budget does not hold a slot; the slot is held until that
 * retry's attempt ends.
 */
export class RetryState {
  readonly #policy: CompiledRetryPolicy;
  readonly #options: RetryStateOptions;
  #retries = 0;
  #slot: BreakerLease | undefined;

  constructor(policy: CompiledRetryPolicy, options: RetryStateOptions) {
    this.#policy = policy;
    this.#options = options;
  }

  /** Retries granted so far. */
  get retries(): number {
    return this.#retries;
  }

  /** Decides on the attempt that just ended, and takes what a retry needs when it is granted. */
  afterAttempt(facts: Omit<AttemptFacts, 'retries'>): RetryDecision {
    this.#releaseSlot();
    const decision = decideRetry(this.#policy, { ...facts, retries: this.#retries }, this.#options.random);
    if (!decision.retry) return decision;
    const breaker = this.#options.breaker;
    if (breaker !== undefined) {
      const slot = breaker.tryAcquire('retries');
      if (!slot.ok) return { retry: false, reason: 'retry-overflow' };
      this.#slot = slot.lease;
    }
    if (this.#options.budget !== undefined && !this.#options.budget.tryWithdraw()) {
      this.#releaseSlot();
      return { retry: false, reason: 'budget-exhausted' };
    }
    this.#retries++;
    return decision;
  }

  /** Releases the retry slot; safe to call more than once. */
  finish(): void {
    this.#releaseSlot();
  }

  #releaseSlot(): void {
    this.#slot?.release();
    this.#slot = undefined;
  }
}
