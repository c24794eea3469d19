import { ALWAYS_AVAILABLE, AvailableEndpoints } from './availability.js';
import type { BalancedEndpoint, Balancer, PickContext, RequestEnd } from './balancer.js';
import { LeastRequestBalancer } from './least-request.js';
import type { EndpointLoads } from './endpoint-loads.js';
import { murmur3 } from './murmur3.js';
import type { BalancerOptions } from './round-robin.js';

/** Options of {@link RingHashBalancer}. */
export interface RingHashOptions extends BalancerOptions {
  /** Fewest entries on the ring (default 1024). */
  readonly minimumRingSize?: number | undefined;
  /** Most entries on the ring (default 8 388 608). */
  readonly maximumRingSize?: number | undefined;
  readonly loads?: EndpointLoads | undefined;
}

export const DEFAULT_MIN_RING_SIZE = 1024;
export const DEFAULT_MAX_RING_SIZE = 8_388_608;

/** Endpoint indices share a float64 with the 32-bit hash when sorting; 2^20 endpoints is plenty. */
const MAX_ENDPOINTS = 1 << 20;

/** A built ring: sorted entry hashes and the endpoint index of each. */
export interface Ring {
  readonly hashes: Uint32Array;
  readonly owners: Uint32Array;
}

/**
 * Entries per unit of weight: `minimumRingSize` rounded up to a power of two, so that even
 * one endpoint fills the minimum ring; halved while the ring would pass `maximumRingSize`.
 * It does not depend on how many endpoints there are (only the maximum can lower it), so
 * an endpoint that leaves removes its own entries and touches no other endpoint's keys
 * (Envoy rescales every endpoint's share on each change, which moves other keys too).
 */
export const entriesPerWeight = (totalWeight: number, minimumRingSize: number, maximumRingSize: number): number => {
  let k = 1;
  while (k < minimumRingSize) k *= 2;
  if (!(totalWeight > 0)) return k;
  while (k > 1 && k * totalWeight > maximumRingSize) k /= 2;
  return k;
};

/**
 * Builds a Ketama-style ring: endpoint `key` of weight w has `w × entriesPerWeight`
 * entries, entry j at hash(`key_j`), so that an endpoint's entries do not depend on the
 * other endpoints.
 */
export const buildRing = (endpoints: readonly BalancedEndpoint[], minimumRingSize: number, maximumRingSize: number): Ring => {
  if (endpoints.length === 0) return { hashes: new Uint32Array(0), owners: new Uint32Array(0) };
  if (endpoints.length > MAX_ENDPOINTS) throw new RangeError(`ring hash: at most ${MAX_ENDPOINTS} endpoints`);
  const perWeight = entriesPerWeight(
    endpoints.reduce((t, e) => t + e.weight, 0),
    minimumRingSize,
    maximumRingSize,
  );
  const packed: number[] = [];
  endpoints.forEach((e, owner) => {
    const entries = e.weight * perWeight;
    for (let j = 0; j < entries; j++) packed.push(murmur3(`${e.key}_${j}`) * MAX_ENDPOINTS + owner);
  });
  const sorted = Float64Array.from(packed).sort();
  const hashes = new Uint32Array(sorted.length);
  const owners = new Uint32Array(sorted.length);
  sorted.forEach((p, i) => {
    hashes[i] = Math.floor(p / MAX_ENDPOINTS);
    owners[i] = p % MAX_ENDPOINTS;
  });
  return { hashes, owners };
};

/** The owner of the first entry at or after `hash`, wrapping round; -1 on an empty ring. */
export const ringLookup = (ring: Ring, hash: number): number => {
  const h = ring.hashes;
  if (h.length === 0) return -1;
  let lo = 0;
  let hi = h.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((h[mid] ?? 0) < hash) lo = mid + 1;
    else hi = mid;
  }
  return ring.owners[lo === h.length ? 0 : lo] ?? -1;
};

/**
 * Consistent hashing on a ring (Envoy's `RING_HASH`): a request goes to the endpoint owning
 * the first ring entry at or after its hash, so that the same key keeps reaching the same
 * endpoint, and an endpoint leaving moves only the keys it owned. The ring holds the
 * available endpoints and is rebuilt when availability changes. A request without a hash
 * is balanced by least request.
 */
export class RingHashBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #endpoints: AvailableEndpoints<E>;
  readonly #fallback: LeastRequestBalancer<E>;
  readonly #min: number;
  readonly #max: number;
  #generation = -1;
  #list: readonly E[] = [];
  #ring: Ring = { hashes: new Uint32Array(0), owners: new Uint32Array(0) };

  constructor(endpoints: readonly E[], options: RingHashOptions) {
    this.#min = options.minimumRingSize ?? DEFAULT_MIN_RING_SIZE;
    this.#max = options.maximumRingSize ?? DEFAULT_MAX_RING_SIZE;
    if (!(this.#min >= 1) || !(this.#max >= this.#min)) throw new RangeError(`ring hash: need 1 <= minimumRingSize <= maximumRingSize (got ${this.#min}, ${this.#max})`);
    this.#endpoints = new AvailableEndpoints(endpoints, options.availability ?? ALWAYS_AVAILABLE);
    this.#fallback = new LeastRequestBalancer(endpoints, options);
  }

  /** Entries on the ring now. */
  get ringSize(): number {
    this.#refresh();
    return this.#ring.hashes.length;
  }

  pick(context?: PickContext): E | undefined {
    const hash = context?.hash;
    if (hash === undefined) return this.#fallback.pick();
    this.#refresh();
    return this.#list[ringLookup(this.#ring, hash >>> 0)];
  }

  onRequestStart(endpoint: E): void {
    this.#fallback.onRequestStart(endpoint);
  }

  onRequestEnd(endpoint: E, end: RequestEnd): void {
    this.#fallback.onRequestEnd(endpoint, end);
  }

  #refresh(): void {
    const generation = this.#endpoints.generation;
    if (generation === this.#generation) return;
    this.#generation = generation;
    this.#list = this.#endpoints.list;
    this.#ring = buildRing(this.#list, this.#min, this.#max);
  }
}
