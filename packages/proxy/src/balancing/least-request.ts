import { ALWAYS_AVAILABLE, AvailableEndpoints } from './availability.js';
import type { BalancedEndpoint, Balancer, RequestEnd } from './balancer.js';
import { EndpointLoads, type EndpointLoad } from './endpoint-loads.js';
import { pickByChoices } from './power-of-choices.js';
import type { BalancerOptions } from './round-robin.js';
import { WeightedSampler } from './weighted-sampler.js';

/** Options of {@link LeastRequestBalancer}. */
export interface LeastRequestOptions extends BalancerOptions {
  /** Endpoints sampled per pick (DestinationPolicy `choiceCount`, default 2). */
  readonly choiceCount?: number | undefined;
  /** Shared with the balancers of earlier configs; see {@link EndpointLoads}. */
  readonly loads?: EndpointLoads | undefined;
}

/**
 * Least request with the power of choices (Envoy's `LEAST_REQUEST`, the Mesh default):
 * sample `choiceCount` available endpoints and send to the one with the fewest requests in
 * flight from this proxy. With unequal weights, endpoints are sampled in proportion to
 * their weight and compared by requests in flight per unit of weight.
 */
export class LeastRequestBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly loads: EndpointLoads;
  readonly #endpoints: AvailableEndpoints<E>;
  readonly #options: LeastRequestOptions;
  readonly #choices: number;
  #generation = -1;
  #list: readonly E[] = [];
  #states: EndpointLoad[] = [];
  #sampler: WeightedSampler | undefined;
  readonly #cost = (i: number): number => {
    const s = this.#states[i];
    const e = this.#list[i];
    return s === undefined || e === undefined ? Infinity : s.active / e.weight;
  };

  constructor(endpoints: readonly E[], options: LeastRequestOptions) {
    const choices = options.choiceCount ?? 2;
    if (!Number.isSafeInteger(choices) || choices < 1) throw new RangeError(`least request: choiceCount must be a whole number >= 1 (got ${choices})`);
    this.#choices = choices;
    this.#options = options;
    this.loads = options.loads ?? new EndpointLoads();
    this.#endpoints = new AvailableEndpoints(endpoints, options.availability ?? ALWAYS_AVAILABLE);
  }

  pick(): E | undefined {
    const generation = this.#endpoints.generation;
    if (generation !== this.#generation) this.#rebuild(generation);
    const i = pickByChoices(this.#list.length, this.#choices, this.#options.random, this.#cost, this.#sampler);
    return this.#list[i];
  }

  onRequestStart(endpoint: E): void {
    this.loads.started(endpoint.key);
  }

  onRequestEnd(endpoint: E, _end: RequestEnd): void {
    this.loads.ended(endpoint.key);
  }

  #rebuild(generation: number): void {
    this.#generation = generation;
    this.#list = this.#endpoints.list;
    this.#states = this.#list.map((e) => this.loads.of(e.key));
    const first = this.#list[0]?.weight;
    this.#sampler = this.#list.every((e) => e.weight === first) ? undefined : new WeightedSampler(this.#list.map((e) => e.weight));
  }
}
