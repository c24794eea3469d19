import { parseDuration, serviceKey, type FaultPolicy, type RouteFault, type RouteRule, type ServiceConfig } from '@weft/api';
import { faultMatches } from './fault-matches.js';
import { contentHash } from './hash.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';
import type { TranslatedRoute } from './route-translate.js';
import { cmp } from './status.js';

/**
 * FaultPolicies -> the `fault` of route rules in the snapshots of the proxies that CALL the
 * target (faults are injected by the caller, as Istio does). A policy on a Service applies
 * to every rule of that Service as its callers see it; a Service without rules of its own
 * gets the catch-all rule the proxy would make, carrying the fault. A policy on an HTTPRoute
 * or GRPCRoute applies to that route's rules only (one rule with `sectionName`), wherever
 * the route is attached. One fault per rule, the most specific policy winning, as Gateway
 * API policy attachment has it: a route rule's over its route's over its Service's; among
 * policies on the same target, the first by name. `matches` narrow a fault to the rule's
 * requests that meet one of them; the calling proxy checks them.
 */

/** Whether this compiler applies `p`: every policy, but one whose `matches` proxies cannot run. */
export const faultPolicyApplies = (p: FaultPolicy): boolean => faultMatches(p).refused.length === 0;

/** A FaultPolicy in its snapshot form. */
export const compileFault = (p: FaultPolicy): RouteFault => {
  const { delay, abort } = p.spec;
  const { matches } = faultMatches(p);
  return {
    policy: `${p.metadata.namespace}/${p.metadata.name}`,
    ...(matches === undefined ? {} : { matches }),
    ...(delay === undefined ? {} : { delay: { fixedDelayMs: parseDuration(delay.fixedDelay), percentage: delay.percentage } }),
    ...(abort === undefined
      ? {}
      : {
          abort: {
            ...(abort.httpStatus === undefined ? {} : { httpStatus: abort.httpStatus }),
            ...(abort.grpcStatus === undefined ? {} : { grpcStatus: abort.grpcStatus }),
            percentage: abort.percentage,
          },
        }),
  };
};

/** The applicable FaultPolicies on target `key`, first by name first. */
const faultPoliciesOn = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, key: string): FaultPolicy[] =>
  (byTarget.get(key) ?? []).filter((p): p is FaultPolicy => p.kind === 'FaultPolicy' && faultPolicyApplies(p)).sort((a, b) => cmp(a.metadata.name, b.metadata.name));

/** The fault callers of Service `name.namespace` apply to its rules that no route-level policy covers, if any. */
export const faultOfService = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, name: string, namespace: string): RouteFault | undefined => {
  const first = faultPoliciesOn(byTarget, policyTargetKey('Service', namespace, name))[0];
  return first === undefined ? undefined : compileFault(first);
};

/**
 * The faults of route rules from policies on their HTTPRoute or GRPCRoute, by snapshot rule
 * name (`httproute:<namespace>/<route>#<rule>`, the same in every caller's view): a policy
 * on the rule (`sectionName`) over one on the whole route. Built once per mesh context.
 */
export const indexRouteFaults = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, routes: readonly TranslatedRoute[]): ReadonlyMap<string, RouteFault> => {
  const faults = new Map<string, RouteFault>();
  for (const t of routes) {
    const policies = faultPoliciesOn(byTarget, policyTargetKey(t.route.kind, t.route.metadata.namespace, t.route.metadata.name));
    if (policies.length === 0) continue;
    const compiled = new Map(policies.map((p) => [p, compileFault(p)]));
    for (const rule of t.rules) {
      const winner =
        policies.find((p) => p.spec.targetRef.sectionName !== undefined && p.spec.targetRef.sectionName === rule.ruleName) ??
        policies.find((p) => p.spec.targetRef.sectionName === undefined);
      const fault = winner === undefined ? undefined : compiled.get(winner);
      if (fault !== undefined) faults.set(rule.name, fault);
    }
  }
  return faults;
};

/**
 * A service's config with the fault of each rule, and the line its faults add to the
 * proxy's routesVersion (empty without a fault, so that other snapshots keep their versions).
 */
export const withFault = (
  byTarget: ReadonlyMap<string, readonly PolicyResource[]>,
  routeFaults: ReadonlyMap<string, RouteFault>,
  config: ServiceConfig,
): { config: ServiceConfig; hashLine: string } => {
  const serviceFault = faultOfService(byTarget, config.name, config.namespace);
  const key = serviceKey(config.name, config.namespace);
  const ofRule = (r: RouteRule): RouteFault | undefined => (r.name === undefined ? undefined : routeFaults.get(r.name)) ?? serviceFault;
  if (serviceFault === undefined && !config.routes.some((r) => ofRule(r) !== undefined)) return { config, hashLine: '' };
  // Only a Service-level fault needs the catch-all rule: route-level ones live on route rules.
  const rules: RouteRule[] =
    config.routes.length > 0 ? config.routes : [{ name: 'default', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: key, weight: 1 }] }];
  const faults = rules.map(ofRule);
  return {
    config: { ...config, routes: rules.map((r, i) => { const fault = faults[i]; return fault === undefined ? r : { ...r, fault }; }) },
    hashLine: `\nfault ${key} ${contentHash(faults.map((f) => f ?? null))}`,
  };
};
