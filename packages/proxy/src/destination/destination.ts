import type { DestinationPolicySnapshot, Endpoint } from '@weft/api/data-plane';
import { allOf, type Availability } from '../balancing/availability.js';
import { EndpointLoads } from '../balancing/endpoint-loads.js';
import type { LoadBalancerSpec } from '../balancing/build-balancer.js';
import type { CallerLocality } from '../balancing/locality.js';
import { CircuitBreaker, DEFAULT_CONNECTION_POOL, LIMIT_OF, type BreakerResource, type ConnectionPoolLimits } from '../resilience/circuit-breaker.js';
import type { Clock, Random, Timer, TimerHandle } from '../resilience/clock.js';
import { HealthChecker, type HealthProbe } from '../resilience/health-checker.js';
import { OutlierDetector } from '../resilience/outlier-detector.js';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from '../resilience/retry-budget.js';
import { connectKey, endpointKey, type EndpointRef } from '../routing/endpoint-picker.js';
import { countEjection, countOverflow } from './destination-counts.js';

/** What destinations are built with: time, randomness, the caller's zone, and how to probe. */
export interface DestinationEnv {
  readonly clock: Clock;
  readonly timer: Timer;
  readonly random: Random;
  readonly caller: CallerLocality;
  /** The active health check of an endpoint, as the policy's `healthCheck` says. */
  readonly probeFor: (service: string, spec: NonNullable<DestinationPolicySnapshot['healthCheck']>) => HealthProbe<EndpointRef>;
}

/**
 * A snapshot without a destination entry for a Service (a static config written by hand):
 * round robin, the default limits and budget, no outlier detection or health checks.
 */
const STATIC_LOAD_BALANCER: LoadBalancerSpec = { type: 'ROUND_ROBIN' };

/** A Service's breaker that counts what it refuses, for `weft_proxy_circuit_breaker_overflows_total`. */
class CountedBreaker extends CircuitBreaker {
  readonly #service: string;

  constructor(limits: ConnectionPoolLimits, service: string) {
    super(limits);
    this.#service = service;
  }

  protected override onOverflow(resource: BreakerResource): void {
    countOverflow(this.#service, LIMIT_OF[resource]);
  }
}

/** The endpoints of a snapshot's list as the data path uses them. */
export const endpointRefs = (list: readonly Endpoint[]): EndpointRef[] =>
  list.map((e) => {
    const key = endpointKey(e.address, e.port);
    return {
      key,
      connectKey: connectKey(key, e.identity),
      address: e.address,
      port: e.port,
      labels: e.labels,
      weight: e.weight,
      ...(e.identity === undefined ? {} : { identity: e.identity }),
    };
  });

/**
 * How this proxy reaches one upstream Service, and what it has learned about it: the
 * DestinationPolicy's breaker, retry budget, outlier detector and health checks, and the
 * load on each endpoint. It outlives a config change when the policy is unchanged, so that
 * an ejected endpoint stays out, a budget stays spent and in-flight requests keep counting
 * when only routes or endpoints change; the route table's balancers are rebuilt per config
 * and read it.
 */
export class Destination {
  readonly service: string;
  readonly policy: DestinationPolicySnapshot | undefined;
  /** The policy as text, to tell whether the next config may keep this destination. */
  readonly policyKey: string;
  readonly loadBalancer: LoadBalancerSpec;
  readonly breaker: CircuitBreaker;
  readonly budget: RetryBudget;
  readonly loads = new EndpointLoads();
  readonly outliers: OutlierDetector | undefined;
  readonly health: HealthChecker<EndpointRef> | undefined;
  /** Not ejected and not failing health checks. */
  readonly availability: Availability;
  #endpoints: readonly EndpointRef[] = [];
  readonly #tick: TimerHandle | undefined;

  constructor(service: string, policy: DestinationPolicySnapshot | undefined, env: DestinationEnv) {
    this.service = service;
    this.policy = policy;
    this.policyKey = policy === undefined ? '' : JSON.stringify(policy);
    this.loadBalancer = policy?.loadBalancer ?? STATIC_LOAD_BALANCER;
    this.breaker = new CountedBreaker(policy?.connectionPool ?? DEFAULT_CONNECTION_POOL, service);
    this.budget = new RetryBudget(policy?.retryBudget ?? DEFAULT_RETRY_BUDGET, env.clock);
    const sources: Availability[] = [];
    const od = policy?.outlierDetection;
    if (od !== undefined) {
      this.outliers = new OutlierDetector(od, {
        clock: env.clock,
        onEvent: (e) => {
          if (e.type === 'ejected') countEjection(service, e.reason);
        },
      });
      this.#tick = this.outliers.start(env.timer);
      sources.push(this.outliers);
    }
    const hc = policy?.healthCheck;
    if (hc !== undefined) {
      this.health = new HealthChecker(hc, env.probeFor(service, hc), { timer: env.timer, random: env.random });
      sources.push(this.health);
    }
    this.availability = allOf(...sources);
  }

  /** The Service's endpoints of the current config. */
  get endpoints(): readonly EndpointRef[] {
    return this.#endpoints;
  }

  /** The endpoints of a new config: state of those that stay is kept, that of those gone dropped. */
  setEndpoints(list: readonly EndpointRef[]): void {
    this.#endpoints = list;
    const keys = list.map((e) => e.key);
    this.outliers?.setEndpoints(keys);
    this.health?.setEndpoints(list);
    this.loads.retain(keys);
  }

  /** Stops the timers and probes of a destination no config uses any more. */
  stop(): void {
    this.#tick?.cancel();
    this.health?.stop();
  }
}

/**
 * The destinations of one snapshot: one per Service with endpoints, carried over from the
 * previous config's when the policy is the same, new otherwise.
 */
export const buildDestinations = (
  endpoints: Readonly<Record<string, readonly Endpoint[]>>,
  policies: Readonly<Record<string, DestinationPolicySnapshot>>,
  previous: ReadonlyMap<string, Destination> | undefined,
  env: DestinationEnv,
): Map<string, Destination> => {
  const out = new Map<string, Destination>();
  const services = new Set([...Object.keys(endpoints), ...Object.keys(policies)]);
  for (const service of services) {
    const policy = policies[service];
    const key = policy === undefined ? '' : JSON.stringify(policy);
    const before = previous?.get(service);
    const d = before !== undefined && before.policyKey === key ? before : new Destination(service, policy, env);
    d.setEndpoints(endpointRefs(endpoints[service] ?? []));
    out.set(service, d);
  }
  return out;
};

/** Stops the destinations of `old` that `next` does not keep. */
export const retireDestinations = (old: ReadonlyMap<string, Destination>, next: ReadonlyMap<string, Destination> | undefined): void => {
  for (const [service, d] of old) if (next?.get(service) !== d) d.stop();
};
