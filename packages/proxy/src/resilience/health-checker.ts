import type { Random, Timer, TimerHandle } from './clock.js';

/** Active health checking in the snapshot's units (DestinationPolicy `healthCheck`). */
export interface HealthCheckSpec {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Passing checks in a row that bring an unhealthy endpoint back. */
  readonly healthyThreshold: number;
  /** Failing checks in a row that mark a healthy endpoint unhealthy. */
  readonly unhealthyThreshold: number;
}

/**
 * One check of one endpoint: resolves true when it passed. It must stop work when `signal`
 * aborts (the check timed out or the endpoint left); a rejection counts as a failure.
 */
export type HealthProbe<E> = (endpoint: E, signal: AbortSignal) => Promise<boolean>;

/**
 * `unknown` until the first check ends, which decides alone (as Envoy's first check does);
 * after that the thresholds apply. An unknown endpoint gets traffic, so that a new
 * endpoint or a proxy start does not black-hole a Service until its first checks end.
 */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export type HealthEvent = { readonly key: string; readonly from: HealthStatus; readonly to: HealthStatus };

interface Session<E> {
  endpoint: E;
  status: HealthStatus;
  passes: number;
  failures: number;
  timer: TimerHandle | undefined;
  abort: AbortController | undefined;
  /** Ends a session for good: a probe that settles afterwards is ignored. */
  closed: boolean;
}

/** Options of {@link HealthChecker}. */
export interface HealthCheckerOptions {
  readonly timer: Timer;
  /** Spreads the first check of each endpoint over the first interval, so that checks of many endpoints do not go out together. */
  readonly random?: Random | undefined;
  readonly onEvent?: ((e: HealthEvent) => void) | undefined;
}

/**
 * Active health checks of the endpoints of one upstream Service: every `intervalMs` after
 * the previous check ended, one probe per endpoint (never two at once), failed when it
 * does not answer within `timeoutMs`. Endpoints become unhealthy after `unhealthyThreshold`
 * failures in a row and healthy again after `healthyThreshold` passes in a row.
 */
export class HealthChecker<E extends { readonly key: string }> {
  readonly spec: HealthCheckSpec;
  readonly #probe: HealthProbe<E>;
  readonly #options: HealthCheckerOptions;
  readonly #sessions = new Map<string, Session<E>>();
  #version = 0;
  #stopped = false;

  constructor(spec: HealthCheckSpec, probe: HealthProbe<E>, options: HealthCheckerOptions) {
    checkSpec(spec);
    this.spec = spec;
    this.#probe = probe;
    this.#options = options;
  }

  /** Changes whenever an endpoint's availability does. */
  get version(): number {
    return this.#version;
  }

  status(key: string): HealthStatus | undefined {
    return this.#sessions.get(key)?.status;
  }

  /** Whether `key` may get traffic: not known unhealthy. An endpoint not checked is available. */
  isAvailable(key: string): boolean {
    return this.#sessions.get(key)?.status !== 'unhealthy';
  }

  /** Endpoints known unhealthy now. */
  get unhealthyCount(): number {
    let n = 0;
    for (const s of this.#sessions.values()) if (s.status === 'unhealthy') n++;
    return n;
  }

  /**
   * The endpoints to check after a config change: those that stay keep their status and
   * schedule, new ones get their first check, removed ones stop (their probe is aborted).
   */
  setEndpoints(endpoints: readonly E[]): void {
    if (this.#stopped) return;
    const next = new Map(endpoints.map((e) => [e.key, e]));
    let changed = false;
    for (const [key, s] of this.#sessions) {
      const kept = next.get(key);
      if (kept !== undefined) {
        s.endpoint = kept;
        continue;
      }
      if (s.status === 'unhealthy') changed = true;
      this.#close(s);
      this.#sessions.delete(key);
    }
    for (const [key, endpoint] of next) {
      if (this.#sessions.has(key)) continue;
      const s: Session<E> = { endpoint, status: 'unknown', passes: 0, failures: 0, timer: undefined, abort: undefined, closed: false };
      this.#sessions.set(key, s);
      const spread = this.#options.random === undefined ? 0 : Math.floor(this.#options.random() * this.spec.intervalMs);
      s.timer = this.#options.timer.schedule(spread, () => this.#check(s));
    }
    if (changed) this.#version++;
  }

  /** Stops every check and aborts the probes in flight. */
  stop(): void {
    this.#stopped = true;
    for (const s of this.#sessions.values()) this.#close(s);
  }

  #check(s: Session<E>): void {
    if (s.closed) return;
    s.timer = undefined;
    const abort = new AbortController();
    s.abort = abort;
    let settled = false;
    const finish = (passed: boolean): void => {
      if (settled) return;
      settled = true;
      timeout.cancel();
      if (!abort.signal.aborted) abort.abort();
      s.abort = undefined;
      if (s.closed) return;
      this.#result(s, passed);
      s.timer = this.#options.timer.schedule(this.spec.intervalMs, () => this.#check(s));
    };
    const timeout = this.#options.timer.schedule(this.spec.timeoutMs, () => finish(false));
    let pending: Promise<boolean>;
    try {
      pending = this.#probe(s.endpoint, abort.signal);
    } catch {
      finish(false);
      return;
    }
    pending.then(
      (passed) => finish(passed === true),
      () => finish(false),
    );
  }

  #result(s: Session<E>, passed: boolean): void {
    const from = s.status;
    if (passed) {
      s.passes++;
      s.failures = 0;
    } else {
      s.failures++;
      s.passes = 0;
    }
    let to = from;
    if (from === 'unknown') to = passed ? 'healthy' : 'unhealthy';
    else if (from === 'healthy' && s.failures >= this.spec.unhealthyThreshold) to = 'unhealthy';
    else if (from === 'unhealthy' && s.passes >= this.spec.healthyThreshold) to = 'healthy';
    if (to === from) return;
    s.status = to;
    if (from === 'unhealthy' || to === 'unhealthy') this.#version++;
    this.#options.onEvent?.({ key: s.endpoint.key, from, to });
  }

  #close(s: Session<E>): void {
    s.closed = true;
    s.timer?.cancel();
    s.abort?.abort();
  }
}

const checkSpec = (spec: HealthCheckSpec): void => {
  for (const name of ['intervalMs', 'timeoutMs', 'healthyThreshold', 'unhealthyThreshold'] as const) {
    const v = spec[name];
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`health check: ${name} must be a whole number >= 1 (got ${v})`);
  }
};
