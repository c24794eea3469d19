import { serviceKey, type AuthorizationPolicy, type DestinationPolicy, type FaultPolicy, type RateLimitPolicy } from '@weft/api';
import { effectiveDestinationPolicy } from './destination-winner.js';
import { faultMatches } from './fault-matches.js';
import type { AnyRoute } from './route-translate.js';
import type { MeshService } from './service-index.js';
import { REASONS, condition, type ResourceStatusReport } from './status.js';

/** Every policy kind. */
export type PolicyResource = DestinationPolicy | AuthorizationPolicy | RateLimitPolicy | FaultPolicy;

/** What a policy can target. `Namespace` is an AuthorizationPolicy without `targetRef`. */
export type PolicyTargetKind = 'Service' | 'HTTPRoute' | 'GRPCRoute' | 'Namespace';

/** The key of a policy target in {@link PolicyIndex.byTarget}: `Service/<namespace>/<name>`, or `Namespace/<namespace>`. */
export const policyTargetKey = (kind: PolicyTargetKind, namespace: string, name?: string): string =>
  name === undefined ? `${kind}/${namespace}` : `${kind}/${namespace}/${name}`;

/** Policies by target, in name order, and their statuses. */
export interface PolicyIndex {
  readonly byTarget: ReadonlyMap<string, readonly PolicyResource[]>;
  readonly statuses: readonly ResourceStatusReport[];
}

/**
 * Indexes the policies by what they target. A policy whose target (or `sectionName`: a port
 * of the Service, a rule of the route) does not exist is kept, and reported with
 * `ResolvedRefs` False, so that resources can be applied in any order. AuthorizationPolicies
 * and RateLimitPolicies are enforced (see `authz.ts`, `rate-limits.ts`), FaultPolicies and
 * DestinationPolicies compiled into callers' snapshots (see `faults.ts`,
 * `destination-policies.ts`); `Accepted` says by whom. Of several DestinationPolicies
 * targeting one Service, only the oldest is Accepted. A FaultPolicy whose `matches` use an
 * expression proxies do not run is Accepted with reason `UnsupportedValue` and not applied.
 */
export const indexPolicies = (policies: readonly PolicyResource[], services: ReadonlyMap<string, MeshService>, routes: readonly AnyRoute[]): PolicyIndex => {
  const byTarget = new Map<string, PolicyResource[]>();
  const statuses: ResourceStatusReport[] = [];
  for (const p of policies) {
    const ref = p.spec.targetRef;
    const key = ref === undefined ? policyTargetKey('Namespace', p.metadata.namespace) : policyTargetKey(ref.kind, p.metadata.namespace, ref.name);
    byTarget.set(key, [...(byTarget.get(key) ?? []), p]);
  }
  for (const p of policies) {
    const { namespace, name, generation } = p.metadata;
    const ref = p.spec.targetRef;
    const key = ref === undefined ? policyTargetKey('Namespace', namespace) : policyTargetKey(ref.kind, namespace, ref.name);
    const winner = p.kind === 'DestinationPolicy' ? effectiveDestinationPolicy((byTarget.get(key) ?? []).filter(isDestinationPolicy)) : undefined;
    const missing = ref === undefined ? undefined : missingTarget(ref, namespace, services, routes);
    const refused = p.kind === 'FaultPolicy' ? faultMatches(p).refused : [];
    statuses.push({
      kind: p.kind,
      namespace,
      name,
      conditions: [
        refused.length > 0
          ? condition('Accepted', true, REASONS.UnsupportedValue, `not applied: ${refused.join('; ')}`, generation)
          : winner === undefined || winner === p
          ? condition('Accepted', true, REASONS.Accepted, acceptedMessage(p), generation)
          : condition('Accepted', false, REASONS.Conflicted, `DestinationPolicy ${winner.metadata.namespace}/${winner.metadata.name} targets the same Service and takes precedence (older, or first by name)`, generation),
        missing === undefined
          ? condition('ResolvedRefs', true, REASONS.ResolvedRefs, '', generation)
          : condition('ResolvedRefs', false, REASONS.TargetNotFound, `spec.targetRef: ${missing}`, generation),
      ],
    });
  }
  return { byTarget, statuses };
};

/** What `Accepted` says of a policy: who enforces it. */
const acceptedMessage = (p: PolicyResource): string => {
  if (p.kind === 'DestinationPolicy') {
    const ref = p.spec.targetRef;
    const where = `applied by the proxies that call Service ${p.metadata.namespace}/${ref.name}`;
    // The snapshot keys destination policies by Service: one applies to all its ports.
    return ref.sectionName === undefined ? where : `${where} (on every port: sectionName ${ref.sectionName} is not applied per port)`;
  }
  if (p.kind === 'RateLimitPolicy') {
    const ref = p.spec.targetRef;
    return ref.kind === 'Service'
      ? `enforced on inbound by the proxies of Service ${p.metadata.namespace}/${ref.name}${ref.sectionName === undefined ? '' : ` (on every port: sectionName ${ref.sectionName} is not applied per port)`}`
      : `enforced on inbound by the proxies of the Services that ${routeRules(ref, p.metadata.namespace)} ${ref.sectionName === undefined ? "send to, on requests that meet those rules'" : "sends to, on requests that meet that rule's"} matches`;
  }
  if (p.kind === 'FaultPolicy') {
    const ref = p.spec.targetRef;
    const on = p.spec.matches === undefined ? '' : ', on the requests that meet its matches';
    if (ref.kind !== 'Service') {
      return `injected by the proxies that call through ${routeRules(ref, p.metadata.namespace)}${on} (over FaultPolicies on ${ref.sectionName === undefined ? '' : 'the whole route and on '}its Services; the first by name, when several target it)`;
    }
    return `injected by the proxies that call Service ${p.metadata.namespace}/${ref.name}${on} (but on the rules of routes with a FaultPolicy of their own; the first by name, when several target it)`;
  }
  if (p.kind !== 'AuthorizationPolicy') return 'stored; proxies do not enforce policies yet (the snapshot carries none)';
  const ref = p.spec.targetRef;
  if (ref === undefined) return `enforced by the proxies of every Service in namespace ${p.metadata.namespace}`;
  const where = `enforced by the proxies of Service ${p.metadata.namespace}/${ref.name}`;
  // A sidecar serves one application port and applies one authorization to its Service.
  return ref.sectionName === undefined ? where : `${where}, on every port (sectionName ${ref.sectionName} is not applied per port)`;
};

/** `the rules of HTTPRoute ns/name`, or `rule x of HTTPRoute ns/name`. */
const routeRules = (ref: { kind: string; name: string; sectionName?: string | undefined }, namespace: string): string =>
  ref.sectionName === undefined ? `the rules of ${ref.kind} ${namespace}/${ref.name}` : `rule ${ref.sectionName} of ${ref.kind} ${namespace}/${ref.name}`;

const missingTarget = (
  ref: NonNullable<PolicyResource['spec']['targetRef']>,
  namespace: string,
  services: ReadonlyMap<string, MeshService>,
  routes: readonly AnyRoute[],
): string | undefined => {
  if (ref.kind === 'Service') {
    const svc = services.get(serviceKey(ref.name, namespace));
    if (svc === undefined) return `Service ${namespace}/${ref.name} does not exist`;
    if (ref.sectionName !== undefined && !svc.ports.some((p) => p.name === ref.sectionName)) return `Service ${namespace}/${ref.name} has no port named ${ref.sectionName}`;
    return undefined;
  }
  const route = routes.find((r) => r.kind === ref.kind && r.metadata.namespace === namespace && r.metadata.name === ref.name);
  if (route === undefined) return `${ref.kind} ${namespace}/${ref.name} does not exist`;
  const ruleNames = (route.kind === 'HTTPRoute' ? route.spec.rules : (route.spec.rules ?? [])).map((r) => r.name);
  if (ref.sectionName !== undefined && !ruleNames.includes(ref.sectionName)) return `${ref.kind} ${namespace}/${ref.name} has no rule named ${ref.sectionName}`;
  return undefined;
};

const isDestinationPolicy = (p: PolicyResource): p is DestinationPolicy => p.kind === 'DestinationPolicy';
