import { parseDuration, type InboundRateLimit, type RateLimitKey, type RateLimitPolicy } from '@weft/api';
import { deepFreeze } from './freeze.js';
import { contentHash } from './hash.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';
import { cmp } from './status.js';

/**
 * RateLimitPolicies -> the `inbound.rateLimits` of a proxy's snapshot: the policies whose
 * `targetRef` names the proxy's own Service, in name order, durations in milliseconds and
 * `burst` defaulted to `tokens`. Each limit gets a name for the `RateLimit` headers and the
 * metrics, made from its key (`overall`, `per-source`, `per-<header>`), numbered when two
 * limits of one policy would share it.
 */

/** The rate limits of one Service, and the hash that goes into its proxies' routesVersion. */
export interface CompiledRateLimits {
  /** Absent when no policy targets the Service: the snapshot then carries no field. */
  readonly config: InboundRateLimit[] | undefined;
  readonly hash: string;
}

const NONE: CompiledRateLimits = deepFreeze({ config: undefined, hash: contentHash(null) });

/** Longest limit name (the snapshot's bound). */
const MAX_NAME = 64;

const baseName = (key: RateLimitKey): string => {
  switch (key.type) {
    case 'OVERALL':
      return 'overall';
    case 'SOURCE_IDENTITY':
      return 'per-source';
    case 'HEADER':
      return `per-${key.name.toLowerCase()}`;
  }
};

/** The names of a policy's limits, in order: distinct, at most {@link MAX_NAME} characters. */
export const limitNames = (keys: readonly RateLimitKey[]): string[] => {
  const bases = keys.map((k) => baseName(k).slice(0, MAX_NAME - 4));
  return bases.map((b, i) => (bases.indexOf(b) === bases.lastIndexOf(b) ? b : `${b}-${i}`));
};

/** One policy in its snapshot form. */
export const compileRateLimitPolicy = (p: RateLimitPolicy): InboundRateLimit => {
  const names = limitNames(p.spec.limits.map((l) => l.key));
  const redis = p.spec.mode === 'GLOBAL' ? p.spec.redis : undefined;
  return {
    policy: `${p.metadata.namespace}/${p.metadata.name}`,
    limits: p.spec.limits.map((l, i) => ({
      name: names[i] ?? `limit-${i}`,
      tokens: l.tokens,
      intervalMs: parseDuration(l.interval),
      burst: l.burst ?? l.tokens,
      key: l.key.type === 'HEADER' ? { type: 'HEADER', name: l.key.name.toLowerCase() } : l.key,
    })),
    maxKeys: 65_536,
    ...(redis === undefined ? {} : { redis: { address: redis.address, failureMode: redis.failureMode, timeoutMs: parseDuration(redis.timeout) } }),
  };
};

/** The rate limits of Service `service` in `namespace`, from the policies indexed by target. */
export const compileRateLimits = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, service: string, namespace: string): CompiledRateLimits => {
  const policies = (byTarget.get(policyTargetKey('Service', namespace, service)) ?? [])
    .filter((p): p is RateLimitPolicy => p.kind === 'RateLimitPolicy')
    .sort((a, b) => cmp(a.metadata.name, b.metadata.name));
  if (policies.length === 0) return NONE;
  const config = deepFreeze(policies.map(compileRateLimitPolicy));
  return { config, hash: contentHash(config) };
};
