import { parseDuration, serviceKey, type FaultPolicy, type RouteFault, type ServiceConfig } from '@weft/api';
import { contentHash } from './hash.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';
import { cmp } from './status.js';

/**
 * FaultPolicies -> the `fault` of route rules in the snapshots of the proxies that CALL the
 * target Service (faults are injected by the caller, as Istio does). A policy targeting a
 * Service applies to every rule of that Service as its callers see it; a Service without
 * rules of its own gets the catch-all rule the proxy would make, carrying the fault. When
 * several policies target one Service, the first by name applies. Policies with `matches`,
 * and policies on a route, are not compiled yet (their status says so).
 */

/** Whether this compiler applies `p` (Service target, no `matches`). */
export const faultPolicyApplies = (p: FaultPolicy): boolean => p.spec.targetRef.kind === 'Service' && p.spec.matches === undefined;

/** A FaultPolicy in its snapshot form. */
export const compileFault = (p: FaultPolicy): RouteFault => {
  const { delay, abort } = p.spec;
  return {
    policy: `${p.metadata.namespace}/${p.metadata.name}`,
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

/** The fault callers of Service `name.namespace` apply, if any. */
export const faultOfService = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, name: string, namespace: string): RouteFault | undefined => {
  const first = (byTarget.get(policyTargetKey('Service', namespace, name)) ?? [])
    .filter((p): p is FaultPolicy => p.kind === 'FaultPolicy' && faultPolicyApplies(p))
    .sort((a, b) => cmp(a.metadata.name, b.metadata.name))[0];
  return first === undefined ? undefined : compileFault(first);
};

/**
 * A service's config with its fault on every rule, and the line its fault adds to the
 * proxy's routesVersion (empty without a fault, so that other snapshots keep their versions).
 */
export const withFault = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, config: ServiceConfig): { config: ServiceConfig; hashLine: string } => {
  const fault = faultOfService(byTarget, config.name, config.namespace);
  if (fault === undefined) return { config, hashLine: '' };
  const key = serviceKey(config.name, config.namespace);
  const rules =
    config.routes.length > 0 ? config.routes : [{ name: 'default', matches: [{ path: { type: 'PathPrefix' as const, value: '/' } }], backendRefs: [{ service: key, weight: 1 }] }];
  return { config: { ...config, routes: rules.map((r) => ({ ...r, fault })) }, hashLine: `\nfault ${key} ${contentHash(fault)}` };
};
