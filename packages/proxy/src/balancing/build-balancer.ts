import type { Clock, Random } from '../resilience/clock.js';
import type { Availability } from './availability.js';
import type { BalancedEndpoint, Balancer } from './balancer.js';
import type { EndpointLoads } from './endpoint-loads.js';
import type { HashKeySpec } from './hash-key.js';
import { LeastRequestBalancer } from './least-request.js';
import { LocalityBalancer, type CallerLocality, type LocalitySpec } from './locality.js';
import { MaglevBalancer } from './maglev.js';
import { PeakEwmaBalancer } from './peak-ewma.js';
import { RingHashBalancer } from './ring-hash.js';
import { RoundRobinBalancer } from './round-robin.js';

/** The load-balancing algorithm in the snapshot's form (DestinationPolicy `loadBalancer`). */
export type LoadBalancerSpec =
  | { readonly type: 'ROUND_ROBIN' }
  | { readonly type: 'LEAST_REQUEST'; readonly choiceCount: number }
  | { readonly type: 'PEAK_EWMA'; readonly decayMs: number }
  | { readonly type: 'RING_HASH'; readonly hashKey: HashKeySpec; readonly minimumRingSize: number; readonly maximumRingSize: number }
  | { readonly type: 'MAGLEV'; readonly hashKey: HashKeySpec; readonly tableSize: number };

/** The Mesh default: least request with two choices. */
export const DEFAULT_LOAD_BALANCER: LoadBalancerSpec = { type: 'LEAST_REQUEST', choiceCount: 2 };

/** Everything a backend's balancer is built from, once per config. */
export interface BalancerConfig<E extends BalancedEndpoint> {
  readonly endpoints: readonly E[];
  readonly loadBalancer: LoadBalancerSpec;
  /** Labels a route's backend selects (a subset); only endpoints carrying all of them are used. */
  readonly subset?: Readonly<Record<string, string>> | undefined;
  readonly locality?: LocalitySpec | undefined;
  readonly caller?: CallerLocality | undefined;
  /** Outlier detection and health checks together (see `allOf`). */
  readonly availability?: Availability | undefined;
  /** Shared with the balancers of earlier configs of the same Service. */
  readonly loads?: EndpointLoads | undefined;
  readonly clock: Clock;
  readonly random: Random;
}

/** A balancer, and the hash key the proxy must compute per request for it (hashing algorithms only). */
export interface BuiltBalancer<E extends BalancedEndpoint> {
  readonly balancer: Balancer<E>;
  readonly hashKey?: HashKeySpec | undefined;
}

/** The endpoints carrying every label of `subset`. */
export const selectSubset = <E extends BalancedEndpoint>(endpoints: readonly E[], subset: Readonly<Record<string, string>> | undefined): E[] => {
  if (subset === undefined) return [...endpoints];
  const wanted = Object.entries(subset);
  return endpoints.filter((e) => wanted.every(([k, v]) => e.labels[k] === v));
};

/**
 * Builds the balancer of one backend. Subset selection and the locality tiers are applied
 * here, once; ejections and health reach the balancers through `availability`, which they
 * read only when it changes.
 */
export const buildBalancer = <E extends BalancedEndpoint>(config: BalancerConfig<E>): BuiltBalancer<E> => {
  const endpoints = selectSubset(config.endpoints, config.subset);
  const common = { availability: config.availability, random: config.random, loads: config.loads };
  const lb = config.loadBalancer;
  const make = (list: readonly E[]): Balancer<E> => {
    switch (lb.type) {
      case 'ROUND_ROBIN':
        return new RoundRobinBalancer(list, common);
      case 'LEAST_REQUEST':
        return new LeastRequestBalancer(list, { ...common, choiceCount: lb.choiceCount });
      case 'PEAK_EWMA':
        return new PeakEwmaBalancer(list, { ...common, clock: config.clock, decayMs: lb.decayMs });
      case 'RING_HASH':
        return new RingHashBalancer(list, { ...common, minimumRingSize: lb.minimumRingSize, maximumRingSize: lb.maximumRingSize });
      case 'MAGLEV':
        return new MaglevBalancer(list, { ...common, tableSize: lb.tableSize });
    }
  };
  const hashKey = lb.type === 'RING_HASH' || lb.type === 'MAGLEV' ? lb.hashKey : undefined;
  const locality = config.locality;
  const balancer =
    locality?.enabled === true && config.caller?.zone !== undefined
      ? new LocalityBalancer(endpoints, { spec: locality, caller: config.caller, availability: config.availability, random: config.random, makeBalancer: make })
      : make(endpoints);
  return { balancer, hashKey };
};
