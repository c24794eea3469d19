/**
 * Connection-pool and circuit-breaker limits for one upstream Service, as Envoy's
 * thresholds and DestinationPolicy `connectionPool` define them.
 */
export interface ConnectionPoolLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
}

/** The Mesh defaults: 1024 connections, pending and in-flight requests, 3 concurrent retries. */
export const DEFAULT_CONNECTION_POOL: ConnectionPoolLimits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 };

/** What a breaker counts. */
export type BreakerResource = 'connections' | 'pendingRequests' | 'requests' | 'retries';
export const BREAKER_RESOURCES: readonly BreakerResource[] = ['connections', 'pendingRequests', 'requests', 'retries'];

export const LIMIT_OF: Readonly<Record<BreakerResource, keyof ConnectionPoolLimits>> = {
  connections: 'maxConnections',
  pendingRequests: 'maxPendingRequests',
  requests: 'maxRequests',
  retries: 'maxRetries',
};

/** A held unit of a resource; releasing it more than once releases it once. */
export interface BreakerLease {
  readonly resource: BreakerResource;
  release(): void;
}

/**
 * What {@link CircuitBreaker.tryAcquire} answers: a lease, or the limit that overflowed.
 * An overflow of `requests` or `pendingRequests` becomes 503 with flag `UO`; of `retries`,
 * no retry (the attempt's own result stands); of `connections`, a request that waits as
 * pending instead of opening a connection.
 */
export type BreakerResult = { readonly ok: true; readonly lease: BreakerLease } | { readonly ok: false; readonly overflow: keyof ConnectionPoolLimits };

/**
 * Exact counters for one upstream Service, shared by every request of one proxy. Counting
 * is synchronous, so there is no window between checking and taking; a lease is released
 * at most once, so counts never drift or go negative, whatever path ends a request.
 */
export class CircuitBreaker {
  #limits: ConnectionPoolLimits;
  readonly #inUse: Record<BreakerResource, number> = { connections: 0, pendingRequests: 0, requests: 0, retries: 0 };
  readonly #overflows: Record<BreakerResource, number> = { connections: 0, pendingRequests: 0, requests: 0, retries: 0 };

  constructor(limits: ConnectionPoolLimits = DEFAULT_CONNECTION_POOL) {
    this.#limits = checkLimits(limits);
  }

  get limits(): ConnectionPoolLimits {
    return this.#limits;
  }

  /**
   * New limits from a config change. Units held stay held: when a limit drops below what
   * is in use, new acquisitions fail until enough are released.
   */
  setLimits(limits: ConnectionPoolLimits): void {
    this.#limits = checkLimits(limits);
  }

  /** Takes one unit of `resource`, or says which limit is reached. */
  tryAcquire(resource: BreakerResource): BreakerResult {
    const limit = LIMIT_OF[resource];
    if (this.#inUse[resource] >= this.#limits[limit]) {
      this.#overflows[resource]++;
      this.onOverflow(resource);
      return { ok: false, overflow: limit };
    }
    this.#inUse[resource]++;
    let held = true;
    return {
      ok: true,
      lease: {
        resource,
        release: () => {
          if (!held) return;
          held = false;
          this.#inUse[resource]--;
        },
      },
    };
  }

  /**
   * Takes one unit of `resource` without a lease object, for the request path: the caller
   * must {@link give} it back exactly once. False (counted as an overflow) at the limit.
   */
  tryTake(resource: BreakerResource): boolean {
    if (this.#inUse[resource] >= this.#limits[LIMIT_OF[resource]]) {
      this.#overflows[resource]++;
      this.onOverflow(resource);
      return false;
    }
    this.#inUse[resource]++;
    return true;
  }

  /** Gives back a unit taken with {@link tryTake}. */
  give(resource: BreakerResource): void {
    if (this.#inUse[resource] > 0) this.#inUse[resource]--;
  }

  /** Called on each refusal, for counting by subclasses. */
  protected onOverflow(_resource: BreakerResource): void {}

  /** Units of `resource` held now. */
  inUse(resource: BreakerResource): number {
    return this.#inUse[resource];
  }

  /** Units of `resource` still free (the `remaining` gauge of Envoy's breakers). */
  remaining(resource: BreakerResource): number {
    return Math.max(0, this.#limits[LIMIT_OF[resource]] - this.#inUse[resource]);
  }

  /** Whether `resource` is at its limit now (the breaker is "open" for it). */
  isOpen(resource: BreakerResource): boolean {
    return this.remaining(resource) === 0;
  }

  /** Refused acquisitions of `resource`, in all (for `weft_circuit_breaker_overflow_total`). */
  overflows(resource: BreakerResource): number {
    return this.#overflows[resource];
  }
}

const checkLimits = (limits: ConnectionPoolLimits): ConnectionPoolLimits => {
  for (const resource of BREAKER_RESOURCES) {
    const key = LIMIT_OF[resource];
    const v = limits[key];
    const min = key === 'maxConnections' || key === 'maxRequests' ? 1 : 0;
    if (!Number.isSafeInteger(v) || v < min) throw new RangeError(`circuit breaker: ${key} must be a whole number >= ${min} (got ${v})`);
  }
  return limits;
};
