import {
  DestinationPolicySnapshotSchema,
  parseDuration,
  type DestinationPolicy,
  type DestinationPolicySnapshot,
  type HashKey,
  type HealthCheck,
  type LoadBalancer,
  type MeshSpec,
  type OutlierDetection,
  type RetryBudget,
  type SnapshotHashKey,
} from '@weft/api';
import { deepFreeze } from './freeze.js';
import { contentHash } from './hash.js';
import { effectiveDestinationPolicy } from './destination-winner.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';

/**
 * Compiles DestinationPolicies into the snapshot's `destinations`: per Service, the policy
 * that targets it with each section it leaves out taken whole from the Mesh defaults, in
 * the snapshot's units (milliseconds). Built once per mesh context; a Service without a
 * policy shares the one compiled from the Mesh defaults.
 */

/** A Service's destination policy as the snapshot carries it, and its content hash. */
export interface CompiledDestination {
  readonly config: DestinationPolicySnapshot;
  readonly hash: string;
}

/** The compiled destination policy of a service key (`name.namespace`). */
export type DestinationLookup = (serviceKey: string) => CompiledDestination;

/** Builds the lookup from the indexed policies and the Mesh's defaults. */
export const destinationIndex = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, mesh: MeshSpec): DestinationLookup => {
  const defaults = mesh.defaults.destinationPolicy;
  const fallback = compiled(compileSections(defaults, defaults));
  const cache = new Map<string, CompiledDestination>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const dot = key.indexOf('.');
    const list = (byTarget.get(policyTargetKey('Service', key.slice(dot + 1), key.slice(0, dot))) ?? []).filter(
      (p): p is DestinationPolicy => p.kind === 'DestinationPolicy',
    );
    const policy = effectiveDestinationPolicy(list);
    const result = policy === undefined ? fallback : compiled(compileSections(policy.spec, defaults));
    cache.set(key, result);
    return result;
  };
};

const compiled = (config: DestinationPolicySnapshot): CompiledDestination => deepFreeze({ config, hash: contentHash(config) });

type Sections = Pick<DestinationPolicy['spec'], 'loadBalancer' | 'connectionPool' | 'outlierDetection' | 'healthCheck' | 'retryBudget' | 'locality'>;

/** The policy's sections, each absent one taken whole from `defaults`. */
export const compileSections = (policy: Sections, defaults: MeshSpec['defaults']['destinationPolicy']): DestinationPolicySnapshot => {
  const outlier = policy.outlierDetection ?? defaults.outlierDetection;
  const health = policy.healthCheck ?? defaults.healthCheck;
  const locality = policy.locality ?? defaults.locality;
  return DestinationPolicySnapshotSchema.parse({
    loadBalancer: loadBalancerOf(policy.loadBalancer ?? defaults.loadBalancer),
    connectionPool: { ...(policy.connectionPool ?? defaults.connectionPool) },
    ...(outlier === undefined ? {} : { outlierDetection: outlierOf(outlier) }),
    ...(health === undefined ? {} : { healthCheck: healthCheckOf(health) }),
    retryBudget: retryBudgetOf(policy.retryBudget ?? defaults.retryBudget),
    ...(locality === undefined ? {} : { locality: structuredClone(locality) }),
  });
};

const hashKeyOf = (k: HashKey): SnapshotHashKey => {
  switch (k.type) {
    case 'HEADER':
      return { type: 'HEADER', name: k.name.toLowerCase() };
    case 'COOKIE':
      return { type: 'COOKIE', name: k.name, ...(k.ttl === undefined ? {} : { ttlMs: parseDuration(k.ttl) }), ...(k.path === undefined ? {} : { path: k.path }) };
    case 'SOURCE_IP':
      return { type: 'SOURCE_IP' };
  }
};

const loadBalancerOf = (lb: LoadBalancer): DestinationPolicySnapshot['loadBalancer'] => {
  switch (lb.type) {
    case 'ROUND_ROBIN':
      return { type: 'ROUND_ROBIN' };
    case 'LEAST_REQUEST':
      return { type: 'LEAST_REQUEST', choiceCount: lb.choiceCount };
    case 'PEAK_EWMA':
      return { type: 'PEAK_EWMA', decayMs: parseDuration(lb.decay) };
    case 'RING_HASH':
      return { type: 'RING_HASH', hashKey: hashKeyOf(lb.hashKey), minimumRingSize: lb.minimumRingSize, maximumRingSize: lb.maximumRingSize };
    case 'MAGLEV':
      return { type: 'MAGLEV', hashKey: hashKeyOf(lb.hashKey), tableSize: lb.tableSize };
  }
};

const outlierOf = (o: OutlierDetection): NonNullable<DestinationPolicySnapshot['outlierDetection']> => ({
  consecutive5xx: o.consecutive5xx,
  consecutiveGatewayErrors: o.consecutiveGatewayErrors,
  intervalMs: parseDuration(o.interval),
  baseEjectionTimeMs: parseDuration(o.baseEjectionTime),
  maxEjectionTimeMs: parseDuration(o.maxEjectionTime),
  maxEjectionPercent: o.maxEjectionPercent,
  ...(o.successRate === undefined ? {} : { successRate: { ...o.successRate } }),
});

const healthCheckOf = (h: HealthCheck): NonNullable<DestinationPolicySnapshot['healthCheck']> => {
  const timing = {
    intervalMs: parseDuration(h.interval),
    timeoutMs: parseDuration(h.timeout),
    healthyThreshold: h.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold,
  };
  return h.type === 'TCP'
    ? { type: 'TCP', ...timing }
    : { type: 'HTTP', path: h.path, ...(h.expectedStatuses === undefined ? {} : { expectedStatuses: [...h.expectedStatuses] }), ...timing };
};

const retryBudgetOf = (b: RetryBudget): DestinationPolicySnapshot['retryBudget'] => ({
  ratio: b.ratio,
  minRetriesPerSecond: b.minRetriesPerSecond,
  ttlMs: parseDuration(b.ttl),
});
