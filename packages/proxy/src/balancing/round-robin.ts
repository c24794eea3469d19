import type { Random } from '../resilience/clock.js';
import { ALWAYS_AVAILABLE, AvailableEndpoints, type Availability } from './availability.js';
import { noLoadTracking, type BalancedEndpoint, type Balancer } from './balancer.js';

/** Options shared by the balancers. */
export interface BalancerOptions {
  readonly availability?: Availability | undefined;
  readonly random: Random;
}

/**
 * Weighted round robin over the available endpoints. Equal weights rotate through the list
 * (constant time per pick); unequal weights use nginx's smooth weighted round robin, which
 * interleaves endpoints (weights 5, 1, 1 give a a b a c a a, not a a a a a b c) at a cost
 * linear in the number of endpoints. Each balancer starts at a random place, so that many
 * proxies do not send their first requests after a config change to the same endpoint.
 */
export class RoundRobinBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #endpoints: AvailableEndpoints<E>;
  readonly #random: Random;
  #generation = -1;
  #list: readonly E[] = [];
  #next = 0;
  /** Smooth weighted round robin state; empty when the weights are equal. */
  #current = new Float64Array(0);
  #total = 0;

  readonly onRequestStart = noLoadTracking.onRequestStart;
  readonly onRequestEnd = noLoadTracking.onRequestEnd;

  constructor(endpoints: readonly E[], options: BalancerOptions) {
    this.#endpoints = new AvailableEndpoints(endpoints, options.availability ?? ALWAYS_AVAILABLE);
    this.#random = options.random;
  }

  pick(): E | undefined {
    const generation = this.#endpoints.generation;
    if (generation !== this.#generation) this.#rebuild(generation);
    const list = this.#list;
    const n = list.length;
    if (n === 0) return undefined;
    if (this.#current.length === 0) {
      if (this.#next >= n) this.#next = 0;
      return list[this.#next++];
    }
    return list[this.#smoothNext()];
  }

  #rebuild(generation: number): void {
    this.#generation = generation;
    const list = this.#endpoints.list;
    this.#list = list;
    const n = list.length;
    this.#next = n > 0 ? Math.floor(this.#random() * n) : 0;
    const first = list[0]?.weight;
    const equal = list.every((e) => e.weight === first);
    this.#current = equal ? new Float64Array(0) : new Float64Array(n);
    this.#total = list.reduce((t, e) => t + e.weight, 0);
    if (!equal) for (let skip = this.#next; skip > 0; skip--) this.#smoothNext();
  }

  #smoothNext(): number {
    const list = this.#list;
    const current = this.#current;
    let best = 0;
    for (let i = 0; i < list.length; i++) {
      current[i] = (current[i] ?? 0) + (list[i]?.weight ?? 0);
      if ((current[i] ?? 0) > (current[best] ?? 0)) best = i;
    }
    current[best] = (current[best] ?? 0) - this.#total;
    return best;
  }
}
