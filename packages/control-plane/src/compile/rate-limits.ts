import { parseDuration, serviceKey, type InboundRateLimit, type RateLimitKey, type RateLimitPolicy } from '@weft/api';
import { deepFreeze } from './freeze.js';
import { contentHash } from './hash.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';
import type { SnapshotMatch, TranslatedRoute } from './route-translate.js';
import { cmp } from './status.js';

/**
 * RateLimitPolicies -> the `inbound.rateLimits` of a proxy's snapshot: the policies whose
 * `targetRef` names the proxy's own Service, and those on an HTTPRoute or GRPCRoute whose
 * rules send to it, in name order, durations in milliseconds and `burst` defaulted to
 * `tokens`. Each limit gets a name for the `RateLimit` headers and the metrics, made from
 * its key (`overall`, `per-source`, `per-<header>`), numbered when two limits of one policy
 * would share it.
 *
 * Rate limits are enforced by the callee, which does not know which route a caller took: a
 * policy on a route carries the matches of the route's rules (one rule with `sectionName`)
 * that send to the Service, and its proxies count the requests that meet one of them.
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

/** A policy on a route, as one Service that the route's rules send to enforces it. */
export interface RouteRateLimit {
  readonly policy: RateLimitPolicy;
  /** The matches of the policy's rules that send to the Service, in rule order. */
  readonly matches: readonly SnapshotMatch[];
}

/**
 * The RateLimitPolicies on routes by the key of the Service that enforces them: every
 * Service a backendRef of a targeted rule names (a subset's parent). Rules left out of the
 * snapshot (their status says why) carry no matches and add nothing. Built once per mesh
 * context.
 */
export const indexRouteRateLimits = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, routes: readonly TranslatedRoute[]): ReadonlyMap<string, readonly RouteRateLimit[]> => {
  const byService = new Map<string, RouteRateLimit[]>();
  for (const t of routes) {
    const policies = (byTarget.get(policyTargetKey(t.route.kind, t.route.metadata.namespace, t.route.metadata.name)) ?? []).filter(
      (p): p is RateLimitPolicy => p.kind === 'RateLimitPolicy',
    );
    for (const policy of policies) {
      const section = policy.spec.targetRef.sectionName;
      const matchesOf = new Map<string, SnapshotMatch[]>();
      for (const rule of t.rules) {
        if (rule.matches === undefined || (section !== undefined && rule.ruleName !== section)) continue;
        for (const service of new Set(rule.backendRefs.map((b) => b.service))) matchesOf.set(service, [...(matchesOf.get(service) ?? []), ...rule.matches]);
      }
      for (const [service, matches] of matchesOf) byService.set(service, [...(byService.get(service) ?? []), { policy, matches }]);
    }
  }
  return byService;
};

/** One policy in its snapshot form; `matches` for a policy on a route. */
export const compileRateLimitPolicy = (p: RateLimitPolicy, matches?: readonly SnapshotMatch[]): InboundRateLimit => {
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
    ...(matches === undefined ? {} : { matches: [...matches] }),
    ...(redis === undefined ? {} : { redis: { address: redis.address, failureMode: redis.failureMode, timeoutMs: parseDuration(redis.timeout) } }),
  };
};

/**
 * The rate limits of Service `service` in `namespace`: the policies on it (indexed by
 * target) and those on routes that send to it (see {@link indexRouteRateLimits}).
 */
export const compileRateLimits = (
  byTarget: ReadonlyMap<string, readonly PolicyResource[]>,
  byService: ReadonlyMap<string, readonly RouteRateLimit[]>,
  service: string,
  namespace: string,
): CompiledRateLimits => {
  const onService: RouteRateLimit[] = (byTarget.get(policyTargetKey('Service', namespace, service)) ?? [])
    .filter((p): p is RateLimitPolicy => p.kind === 'RateLimitPolicy')
    .map((policy) => ({ policy, matches: [] }));
  const policies = [...onService, ...(byService.get(serviceKey(service, namespace)) ?? [])].sort(
    (a, b) => cmp(a.policy.metadata.name, b.policy.metadata.name) || cmp(a.policy.metadata.namespace, b.policy.metadata.namespace),
  );
  if (policies.length === 0) return NONE;
  const config = deepFreeze(policies.map((r) => compileRateLimitPolicy(r.policy, r.policy.spec.targetRef.kind === 'Service' ? undefined : r.matches)));
  return { config, hash: contentHash(config) };
};
