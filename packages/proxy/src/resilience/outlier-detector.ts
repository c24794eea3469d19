import type { Clock, Timer, TimerHandle } from './clock.js';
import { isGatewayError, isServerError, type AttemptOutcome } from './attempt-outcome.js';
import { successRateOutliers, type SuccessRateSpec } from './success-rate.js';

/** Outlier detection in the snapshot's units (DestinationPolicy `outlierDetection`). */
export interface OutlierDetectionSpec {
  /** 5xx (and attempts without a response) in a row that eject; 0 disables the check. */
  readonly consecutive5xx: number;
  /** 502/503/504 (and attempts without a response) in a row that eject; 0 disables the check. */
  readonly consecutiveGatewayErrors: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly successRate?: SuccessRateSpec | undefined;
}

export type EjectionReason = 'consecutive-5xx' | 'consecutive-gateway-errors' | 'success-rate';

/** An ejection or a return, as observers (metrics, logs) see it. */
export type OutlierEvent =
  | { readonly type: 'ejected'; readonly key: string; readonly reason: EjectionReason; readonly durationMs: number; readonly ejections: number }
  | { readonly type: 'returned'; readonly key: string }
  /** An outlier left in, because ejecting it would pass `maxEjectionPercent`. */
  | { readonly type: 'overflow'; readonly key: string; readonly reason: EjectionReason };

interface EndpointRecord {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Requests and successes of the interval in progress. */
  requests: number;
  successes: number;
  /** Of the last whole interval, judged for success rate. */
  lastRequests: number;
  lastSuccesses: number;
  ejected: boolean;
  ejectedAt: number;
  ejectionMs: number;
  /** The ejection-time multiplier: grows with each ejection, shrinks while the endpoint behaves. */
  backoff: number;
  returnedAt: number | undefined;
}

const newRecord = (): EndpointRecord => ({
  consecutive5xx: 0,
  consecutiveGateway: 0,
  requests: 0,
  successes: 0,
  lastRequests: 0,
  lastSuccesses: 0,
  ejected: false,
  ejectedAt: 0,
  ejectionMs: 0,
  backoff: 0,
  returnedAt: undefined,
});

/**
 * Passive health checking of the endpoints of one upstream Service, as Envoy's outlier
 * detection:
 *
 * - an endpoint with `consecutive5xx` server errors, or `consecutiveGatewayErrors` gateway
 *   errors, in a row is ejected at once (attempts that got no response count as both);
 * - at every interval, with `successRate` set, endpoints whose success rate over the last
 *   interval is a statistical outlier are ejected;
 * - an endpoint ejected for the n-th time in a row stays out `min(n × base, max)`, and n
 *   shrinks by one for every interval it then stays in, so an endpoint that recovered
 *   starts again from the base time;
 * - at most `maxEjectionPercent` of the endpoints are out at once, rounded down, but one
 *   endpoint may always be ejected (Envoy's `always_eject_one_host`);
 * - an ejected endpoint returns at the first interval after its ejection time.
 *
 * {@link version} changes whenever the set of ejected endpoints does, so that balancers
 * can rebuild their view only then instead of checking per request.
 */
export class OutlierDetector {
  readonly spec: OutlierDetectionSpec;
  readonly #clock: Clock;
  readonly #onEvent: ((e: OutlierEvent) => void) | undefined;
  readonly #records = new Map<string, EndpointRecord>();
  readonly #maxBackoff: number;
  #ejectedCount = 0;
  #version = 0;

  constructor(spec: OutlierDetectionSpec, options: { readonly clock: Clock; readonly onEvent?: (e: OutlierEvent) => void }) {
    checkSpec(spec);
    this.spec = spec;
    this.#clock = options.clock;
    this.#onEvent = options.onEvent;
    this.#maxBackoff = Math.max(1, Math.ceil(spec.maxEjectionTimeMs / spec.baseEjectionTimeMs));
  }

  /** Changes whenever an endpoint is ejected or returns. */
  get version(): number {
    return this.#version;
  }

  /** Endpoints ejected now. */
  get ejectedCount(): number {
    return this.#ejectedCount;
  }

  /** Whether `key` is ejected now (an unknown endpoint is not). */
  isEjected(key: string): boolean {
    return this.#records.get(key)?.ejected === true;
  }

  /** Whether `key` may get traffic: the query balancers use. */
  isAvailable(key: string): boolean {
    return !this.isEjected(key);
  }

  /** Ejections of `key` that still count towards its ejection time (0 when unknown). */
  ejectionBackoff(key: string): number {
    return this.#records.get(key)?.backoff ?? 0;
  }

  /**
   * The endpoints of the Service after a config change: those that stay keep their state
   * (an ejected endpoint stays out), new ones start clean, removed ones are forgotten.
   */
  setEndpoints(keys: Iterable<string>): void {
    const next = new Set(keys);
    let changed = false;
    for (const [key, r] of this.#records) {
      if (next.has(key)) continue;
      if (r.ejected) {
        this.#ejectedCount--;
        changed = true;
      }
      this.#records.delete(key);
    }
    for (const key of next) if (!this.#records.has(key)) this.#records.set(key, newRecord());
    if (changed) this.#version++;
  }

  /** Records how an attempt to `key` ended; may eject it at once. */
  record(key: string, outcome: AttemptOutcome): void {
    const r = this.#records.get(key);
    if (r === undefined) return;
    const serverError = isServerError(outcome);
    r.requests++;
    if (!serverError) r.successes++;
    r.consecutive5xx = serverError ? r.consecutive5xx + 1 : 0;
    r.consecutiveGateway = isGatewayError(outcome) ? r.consecutiveGateway + 1 : 0;
    if (r.ejected) return;
    if (this.spec.consecutive5xx > 0 && r.consecutive5xx >= this.spec.consecutive5xx) {
      this.#eject(key, r, 'consecutive-5xx');
      r.consecutive5xx = 0;
    } else if (this.spec.consecutiveGatewayErrors > 0 && r.consecutiveGateway >= this.spec.consecutiveGatewayErrors) {
      this.#eject(key, r, 'consecutive-gateway-errors');
      r.consecutiveGateway = 0;
    }
  }

  /** The interval's work: returns, success-rate ejections, and the shrinking of backoffs. */
  tick(): void {
    const now = this.#clock.now();
    for (const [key, r] of this.#records) {
      if (r.ejected && now - r.ejectedAt >= r.ejectionMs) this.#return(key, r, now);
      r.lastRequests = r.requests;
      r.lastSuccesses = r.successes;
      r.requests = 0;
      r.successes = 0;
    }
    if (this.spec.successRate !== undefined) this.#successRateEjections(this.spec.successRate);
    for (const r of this.#records.values()) {
      // Only an endpoint that has stayed in for a whole interval since its return earns it.
      if (!r.ejected && r.backoff > 0 && r.returnedAt !== undefined && now - r.returnedAt >= this.spec.intervalMs) r.backoff--;
    }
  }

  /** Calls {@link tick} every `intervalMs` on `timer` until the returned handle is cancelled. */
  start(timer: Timer): TimerHandle {
    let handle: TimerHandle | undefined;
    let stopped = false;
    const arm = (): void => {
      handle = timer.schedule(this.spec.intervalMs, () => {
        if (stopped) return;
        this.tick();
        arm();
      });
    };
    arm();
    return {
      cancel: () => {
        stopped = true;
        handle?.cancel();
      },
    };
  }

  #successRateEjections(spec: SuccessRateSpec): void {
    const samples = [];
    for (const [key, r] of this.#records) if (!r.ejected) samples.push({ key, requests: r.lastRequests, successes: r.lastSuccesses });
    for (const key of successRateOutliers(samples, spec).outliers) {
      const r = this.#records.get(key);
      if (r !== undefined && !r.ejected) this.#eject(key, r, 'success-rate');
    }
  }

  #mayEject(): boolean {
    if (this.#ejectedCount === 0) return true;
    return (100 * (this.#ejectedCount + 1)) / this.#records.size <= this.spec.maxEjectionPercent;
  }

  #eject(key: string, r: EndpointRecord, reason: EjectionReason): void {
    if (!this.#mayEject()) {
      this.#onEvent?.({ type: 'overflow', key, reason });
      return;
    }
    r.backoff = Math.min(this.#maxBackoff, r.backoff + 1);
    r.ejected = true;
    r.ejectedAt = this.#clock.now();
    r.ejectionMs = Math.min(this.spec.baseEjectionTimeMs * r.backoff, this.spec.maxEjectionTimeMs);
    this.#ejectedCount++;
    this.#version++;
    this.#onEvent?.({ type: 'ejected', key, reason, durationMs: r.ejectionMs, ejections: r.backoff });
  }

  #return(key: string, r: EndpointRecord, now: number): void {
    r.ejected = false;
    r.returnedAt = now;
    // Start counting afresh, so that a few errors right after the return do not eject again.
    r.consecutive5xx = 0;
    r.consecutiveGateway = 0;
    this.#ejectedCount--;
    this.#version++;
    this.#onEvent?.({ type: 'returned', key });
  }
}

const checkSpec = (spec: OutlierDetectionSpec): void => {
  const problems: string[] = [];
  const whole = (name: keyof OutlierDetectionSpec, min: number): void => {
    const v = spec[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) problems.push(`${name} must be a whole number >= ${min}`);
  };
  whole('consecutive5xx', 0);
  whole('consecutiveGatewayErrors', 0);
  whole('intervalMs', 1);
  whole('baseEjectionTimeMs', 1);
  whole('maxEjectionTimeMs', 1);
  if (!(spec.maxEjectionPercent >= 0 && spec.maxEjectionPercent <= 100)) problems.push('maxEjectionPercent must be from 0 to 100');
  if (spec.maxEjectionTimeMs < spec.baseEjectionTimeMs) problems.push('maxEjectionTimeMs must not be shorter than baseEjectionTimeMs');
  if (problems.length > 0) throw new RangeError(`outlier detection: ${problems.join('; ')}`);
};
