import type { Random } from '../resilience/clock.js';
import { ALWAYS_AVAILABLE, AvailableEndpoints, type Availability } from './availability.js';
import type { BalancedEndpoint, Balancer, PickContext, RequestEnd } from './balancer.js';

/** Locality-aware routing in the snapshot's form (DestinationPolicy `locality`). */
export interface LocalitySpec {
  readonly enabled: boolean;
  /** Below this share of healthy endpoints (percent), a locality spills traffic to the next. */
  readonly minHealthyPercentage: number;
  /** Failover order per caller zone. */
  readonly failover?: readonly { readonly from: string; readonly to: readonly string[] }[] | undefined;
}

/** Where the calling proxy runs: its own `zone` and `region` labels. */
export interface CallerLocality {
  readonly zone?: string | undefined;
  readonly region?: string | undefined;
}

export const ZONE_LABEL = 'zone';
export const REGION_LABEL = 'region';

/**
 * The endpoints in order of preference, as tiers: the caller's zone first; then the zones
 * of the caller zone's `failover` rule, one tier each, in order; without a rule, the other
 * zones of the caller's region (when both carry a `region` label); and last every other
 * endpoint, alike. Empty tiers are left out. Locality off, or a caller without a zone,
 * gives one tier of every endpoint.
 */
export const localityTiers = <E extends BalancedEndpoint>(endpoints: readonly E[], spec: LocalitySpec, caller: CallerLocality): E[][] => {
  const zone = caller.zone;
  if (!spec.enabled || zone === undefined || zone === '') return endpoints.length === 0 ? [] : [[...endpoints]];
  const placed = new Set<E>();
  const tiers: E[][] = [];
  const take = (accept: (e: E) => boolean): void => {
    const tier = endpoints.filter((e) => !placed.has(e) && accept(e));
    for (const e of tier) placed.add(e);
    if (tier.length > 0) tiers.push(tier);
  };
  take((e) => e.labels[ZONE_LABEL] === zone);
  const rule = spec.failover?.find((f) => f.from === zone);
  if (rule !== undefined) {
    for (const to of rule.to) take((e) => e.labels[ZONE_LABEL] === to);
  } else if (caller.region !== undefined && caller.region !== '') {
    take((e) => e.labels[REGION_LABEL] === caller.region);
  }
  take(() => true);
  return tiers;
};

/**
 * The share of traffic each tier gets, given the share of its endpoints available (0 to
 * 1), as Envoy's priority levels with an overprovisioning factor of 100 /
 * `minHealthyPercentage`: a tier takes `min(1, available / minHealthy)` of what the tiers
 * before it left, so a zone at or above the threshold keeps all its traffic and one below
 * it spills the difference, in proportion, to the next. When even all tiers together fall
 * short, the shares are scaled up to sum to 1; when nothing is available, the first tier
 * takes everything (and balances over all its endpoints).
 */
export const tierShares = (availableShares: readonly number[], minHealthyPercentage: number): number[] => {
  const threshold = minHealthyPercentage / 100;
  const health = availableShares.map((a) => (threshold <= 0 ? (a > 0 ? 1 : 0) : Math.min(1, a / threshold)));
  let left = 1;
  const shares = health.map((h) => {
    const s = Math.min(left, h);
    left -= s;
    return s;
  });
  const total = 1 - left;
  if (total <= 0) return shares.map((_, i) => (i === 0 ? 1 : 0));
  return shares.map((s) => s / total);
};

/** Spreads a 32-bit hash again (murmur3's finalizer), so the tier choice does not correlate with the endpoint choice. */
const remix = (hash: number): number => {
  let h = (hash ^ 0x5bd1e995) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
};

/** Options of {@link LocalityBalancer}. */
export interface LocalityBalancerOptions<E extends BalancedEndpoint> {
  readonly spec: LocalitySpec;
  readonly caller: CallerLocality;
  readonly availability?: Availability | undefined;
  readonly random: Random;
  /** Builds the balancer of one tier (the Service's algorithm over that tier's endpoints). */
  readonly makeBalancer: (endpoints: readonly E[]) => Balancer<E>;
}

/**
 * Locality-aware balancing: choose a tier by the shares of {@link tierShares} (by the
 * request's hash when it has one, so a key keeps its tier), then let that tier's own
 * balancer pick. Shares are recomputed only when availability changes, so traffic leaves
 * a failing zone, and comes back when it recovers, at the next pick after the change.
 */
export class LocalityBalancer<E extends BalancedEndpoint> implements Balancer<E> {
  readonly #tiers: readonly { readonly endpoints: AvailableEndpoints<E>; readonly balancer: Balancer<E> }[];
  readonly #tierOf = new Map<string, number>();
  readonly #availability: Availability;
  readonly #options: LocalityBalancerOptions<E>;
  #seen = Number.NaN;
  #cumulative: number[] = [];

  constructor(endpoints: readonly E[], options: LocalityBalancerOptions<E>) {
    this.#options = options;
    this.#availability = options.availability ?? ALWAYS_AVAILABLE;
    this.#tiers = localityTiers(endpoints, options.spec, options.caller).map((tier, i) => {
      for (const e of tier) this.#tierOf.set(e.key, i);
      return { endpoints: new AvailableEndpoints(tier, this.#availability), balancer: options.makeBalancer(tier) };
    });
  }

  /** The share of traffic of each tier now, in order of preference. */
  get shares(): number[] {
    this.#refresh();
    return this.#cumulative.map((c, i) => c - (this.#cumulative[i - 1] ?? 0));
  }

  pick(context?: PickContext): E | undefined {
    if (this.#tiers.length === 0) return undefined;
    this.#refresh();
    const u = context?.hash === undefined ? this.#options.random() : remix(context.hash);
    const tier = this.#cumulative.findIndex((c) => u < c);
    return this.#tiers[tier]?.balancer.pick(context);
  }

  onRequestStart(endpoint: E): void {
    this.#tierFor(endpoint)?.onRequestStart(endpoint);
  }

  onRequestEnd(endpoint: E, end: RequestEnd): void {
    this.#tierFor(endpoint)?.onRequestEnd(endpoint, end);
  }

  #tierFor(endpoint: E): Balancer<E> | undefined {
    const i = this.#tierOf.get(endpoint.key);
    return i === undefined ? undefined : this.#tiers[i]?.balancer;
  }

  #refresh(): void {
    const v = this.#availability.version;
    if (v === this.#seen) return;
    this.#seen = v;
    const shares = tierShares(
      this.#tiers.map((t) => t.endpoints.availableCount / t.endpoints.all.length),
      this.#options.spec.minHealthyPercentage,
    );
    let sum = 0;
    const cumulative = shares.map((s) => (sum += s));
    // Rounding can leave the last sum just under 1: close it at the last tier with a share.
    const last = shares.findLastIndex((s) => s > 0);
    for (let i = Math.max(0, last); i < cumulative.length; i++) cumulative[i] = 1;
    this.#cumulative = cumulative;
  }
}
