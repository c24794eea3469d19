import type { Clock } from '../resilience/clock.js';
import { ALWAYS_AVAILABLE, AvailableEndpoints } from './availability.js';
import type { BalancedEndpoint, Balancer, RequestEnd } from './balancer.js';
import { EndpointLoads, type EndpointLoad } from './endpoint-loads.js';
import { pickByChoices } from './power-of-choices.js';
import type { BalancerOptions } from './round-robin.js';

/** Options of {@link PeakEwmaBalancer}. */
export interface PeakEwmaOptions extends BalancerOptions {
  readonly clock: Clock;
  /** Decay time of the latency average (DestinationPolicy `decay`, default 10 s). */
  readonly decayMs?: number | undefined;
  /** Latency assumed for an endpoint before its first response (default 30 ms, as Linkerd). */
  readonly defaultRttMs?: number | undefined;
  readonly loads?: EndpointLoads | undefined;
}

export const DEFAULT_DECAY_MS = 10_000;
export const DEFAULT_RTT_MS = 30;

/** Keeps the pending-request penalty meaningful when an estimate has decayed to almost nothing. */
const MIN_ESTIMATE_MS = 0.001;

/**
 * Peak EWMA (Finagle's and Linkerd's): each endpoint's cost is its latency estimate times
 * (requests in flight + 1); two random endpoints are compared and the cheaper wins.
 *
 * The estimate is an exponentially weighted moving average of response latency with decay
 * time `decayMs`, but sensitive to peaks: a sample above the estimate replaces it at once,
 * so a slowing endpoint sheds load immediately, and recovers only gradually. Between
 * samples the estimate decays towards zero, so an endpoint that was slow and got no
 * traffic since is tried again after a while instead of being starved for ever.
 *
 * Failures are timed like successes here; a fast-failing endpoint is the outlier
 * detector's to eject.
 */
export class PeakEwmaBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly loads: EndpointLoads;
  readonly #endpoints: AvailableEndpoints<E>;
  readonly #options: PeakEwmaOptions;
  readonly #decayMs: number;
  readonly #defaultRttMs: number;
  #generation = -1;
  #list: readonly E[] = [];
  #states: EndpointLoad[] = [];
  #now = 0;
  readonly #cost = (i: number): number => {
    const s = this.#states[i];
    return s === undefined ? Infinity : Math.max(MIN_ESTIMATE_MS, this.#estimate(s, this.#now)) * (s.active + 1);
  };

  constructor(endpoints: readonly E[], options: PeakEwmaOptions) {
    this.#decayMs = options.decayMs ?? DEFAULT_DECAY_MS;
    this.#defaultRttMs = options.defaultRttMs ?? DEFAULT_RTT_MS;
    if (!(this.#decayMs > 0) || !(this.#defaultRttMs >= 0)) throw new RangeError('peak EWMA: decayMs must be > 0 and defaultRttMs >= 0');
    this.#options = options;
    this.loads = options.loads ?? new EndpointLoads();
    this.#endpoints = new AvailableEndpoints(endpoints, options.availability ?? ALWAYS_AVAILABLE);
  }

  pick(): E | undefined {
    const generation = this.#endpoints.generation;
    if (generation !== this.#generation) {
      this.#generation = generation;
      this.#list = this.#endpoints.list;
      this.#states = this.#list.map((e) => this.loads.of(e.key));
    }
    this.#now = this.#options.clock.now();
    return this.#list[pickByChoices(this.#list.length, 2, this.#options.random, this.#cost)];
  }

  onRequestStart(endpoint: E): void {
    this.loads.started(endpoint.key);
  }

  onRequestEnd(endpoint: E, end: RequestEnd): void {
    const load = this.loads.of(endpoint.key);
    if (load.active > 0) load.active--;
    this.#observe(load, Math.max(0, end.latencyMs), this.#options.clock.now());
  }

  /** The latency estimate of an endpoint now, in ms. */
  estimateOf(key: string): number {
    return this.#estimate(this.loads.of(key), this.#options.clock.now());
  }

  #estimate(s: EndpointLoad, now: number): number {
    if (Number.isNaN(s.rttMs)) return this.#defaultRttMs;
    return s.rttMs * Math.exp(-Math.max(0, now - s.rttAt) / this.#decayMs);
  }

  #observe(s: EndpointLoad, sampleMs: number, now: number): void {
    if (Number.isNaN(s.rttMs)) {
      s.rttMs = sampleMs;
    } else {
      const w = Math.exp(-Math.max(0, now - s.rttAt) / this.#decayMs);
      const decayed = s.rttMs * w;
      s.rttMs = sampleMs > decayed ? sampleMs : decayed + sampleMs * (1 - w);
    }
    s.rttAt = now;
  }
}
