import { ALWAYS_AVAILABLE, AvailableEndpoints } from './availability.js';
import type { BalancedEndpoint, Balancer, PickContext, RequestEnd } from './balancer.js';
import type { EndpointLoads } from './endpoint-loads.js';
import { LeastRequestBalancer } from './least-request.js';
import { murmur3 } from './murmur3.js';
import type { BalancerOptions } from './round-robin.js';

/** Options of {@link MaglevBalancer}. */
export interface MaglevOptions extends BalancerOptions {
  /** Lookup table size, a prime (default 65 537). */
  readonly tableSize?: number | undefined;
  readonly loads?: EndpointLoads | undefined;
}

export const DEFAULT_MAGLEV_TABLE_SIZE = 65_537;

const OFFSET_SEED = 0x9e3779b9;
const SKIP_SEED = 0x85ebca6b;

const isPrime = (n: number): boolean => {
  if (!Number.isSafeInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
};

/**
 * Builds a Maglev lookup table (Eisenbud et al., NSDI 2016) with Envoy's weighting: each
 * endpoint has its own permutation of the table's slots, `(offset + j × skip) mod size`
 * from two hashes of its key, and endpoints take turns claiming their next free preferred
 * slot until the table is full; an endpoint of weight w takes a turn in w of every
 * `maxWeight` rounds. Because every endpoint's preferences do not depend on the others,
 * an endpoint leaving changes few slots besides its own. Each slot holds an index into
 * `endpoints`.
 */
export const buildMaglevTable = (endpoints: readonly BalancedEndpoint[], tableSize: number): Int32Array => {
  if (!isPrime(tableSize)) throw new RangeError(`maglev: tableSize must be a prime number (got ${tableSize})`);
  const table = new Int32Array(tableSize).fill(-1);
  const n = endpoints.length;
  if (n === 0) return table;
  const next = new Float64Array(n);
  const skip = new Float64Array(n);
  const target = new Float64Array(n);
  let maxWeight = 0;
  endpoints.forEach((e, i) => {
    next[i] = murmur3(e.key, OFFSET_SEED) % tableSize;
    skip[i] = (murmur3(e.key, SKIP_SEED) % (tableSize - 1)) + 1;
    maxWeight = Math.max(maxWeight, e.weight);
  });
  let filled = 0;
  for (let round = 1; filled < tableSize; round++) {
    for (let i = 0; i < n && filled < tableSize; i++) {
      const weight = endpoints[i]?.weight ?? 0;
      if (round * weight < (target[i] ?? 0)) continue;
      target[i] = (target[i] ?? 0) + maxWeight;
      const step = skip[i] ?? 1;
      let slot = next[i] ?? 0;
      while (table[slot] !== -1) slot = (slot + step) % tableSize;
      table[slot] = i;
      next[i] = (slot + step) % tableSize;
      filled++;
    }
  }
  return table;
};

/**
 * Consistent hashing with a Maglev table (Envoy's `MAGLEV`): a request goes to the endpoint
 * in slot `hash mod tableSize`. Picks take constant time, load is spread almost exactly by
 * weight, and when one of N endpoints leaves about 1/N of the keys move. The table holds
 * the available endpoints and is rebuilt when availability changes. A request without a
 * hash is balanced by least request.
 */
export class MaglevBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #endpoints: AvailableEndpoints<E>;
  readonly #fallback: LeastRequestBalancer<E>;
  readonly #tableSize: number;
  #generation = -1;
  #list: readonly E[] = [];
  #table: Int32Array = new Int32Array(0);

  constructor(endpoints: readonly E[], options: MaglevOptions) {
    this.#tableSize = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    if (!isPrime(this.#tableSize)) throw new RangeError(`maglev: tableSize must be a prime number (got ${this.#tableSize})`);
    this.#endpoints = new AvailableEndpoints(endpoints, options.availability ?? ALWAYS_AVAILABLE);
    this.#fallback = new LeastRequestBalancer(endpoints, options);
  }

  pick(context?: PickContext): E | undefined {
    const hash = context?.hash;
    if (hash === undefined) return this.#fallback.pick();
    const generation = this.#endpoints.generation;
    if (generation !== this.#generation) {
      this.#generation = generation;
      this.#list = this.#endpoints.list;
      this.#table = buildMaglevTable(this.#list, this.#tableSize);
    }
    if (this.#list.length === 0) return undefined;
    return this.#list[this.#table[(hash >>> 0) % this.#tableSize] ?? -1];
  }

  onRequestStart(endpoint: E): void {
    this.#fallback.onRequestStart(endpoint);
  }

  onRequestEnd(endpoint: E, end: RequestEnd): void {
    this.#fallback.onRequestEnd(endpoint, end);
  }
}
