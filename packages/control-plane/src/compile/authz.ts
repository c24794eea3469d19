import type {
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicy,
  AuthorizationRule,
  AuthorizationSource,
  AuthzCondition,
  AuthzOperation,
  AuthzPolicy,
  AuthzRule,
  AuthzSource,
  InboundAuthorization,
  MeshSpec,
  ServiceMatch,
  StringMatch,
} from '@weft/api';
import { deepFreeze } from './freeze.js';
import { contentHash } from './hash.js';
import { policyTargetKey, type PolicyResource } from './policy-index.js';
import { cmp } from './status.js';

/**
 * AuthorizationPolicies -> the `inbound.authorization` of a proxy's snapshot: the policies
 * that apply to its own Service (those whose `targetRef` names it, and those of its
 * namespace without `targetRef`) and the Mesh default, in the snapshot's evaluation form.
 * `weft authz check` calls the same function on the resources it reads from the API, so
 * that it decides as the proxy does.
 */

/** What the authorization of one Service is compiled from. */
export interface AuthorizationInput {
  /** The Service the proxy serves: name and namespace. */
  readonly service: string;
  readonly namespace: string;
  /** Candidate policies; those that do not apply to the Service are left out here. */
  readonly policies: readonly AuthorizationPolicy[];
  /** `Mesh.spec.authorization.defaultAction`. */
  readonly defaultAction: MeshSpec['authorization']['defaultAction'];
}

/** Whether `policy` applies to requests for Service `service` in `namespace`. */
export const authorizationApplies = (policy: AuthorizationPolicy, service: string, namespace: string): boolean =>
  policy.metadata.namespace === namespace && (policy.spec.targetRef === undefined || policy.spec.targetRef.name === service);

/** A wildcard value (Istio's syntax: exact, `*`, `prefix*`, `*suffix`) split into its kind. */
export const toStringMatch = (value: string): StringMatch => {
  if (value === '*') return { any: true };
  if (value.endsWith('*')) return { prefix: value.slice(0, -1) };
  if (value.startsWith('*')) return { suffix: value.slice(1) };
  return { exact: value };
};

const ANY: StringMatch = { any: true };

/** An empty prefix or suffix is any value. */
const orAny = (m: StringMatch): StringMatch => (('prefix' in m && m.prefix === '') || ('suffix' in m && m.suffix === '') ? ANY : m);

/**
 * A `services` value against the caller's service account and namespace: `NAME` (and a
 * `NAME` pattern) is in the policy's namespace; `NAME.NAMESPACE` names both, where a prefix
 * pattern's wildcard falls in the namespace (`reviews.*`: reviews in any namespace) and a
 * suffix pattern's in the name (`*.jobs`: any service of namespace jobs); `*` is any
 * authenticated caller.
 */
export const toServiceMatch = (value: string, policyNamespace: string): ServiceMatch => {
  const m = toStringMatch(value);
  if ('any' in m) return { name: ANY, namespace: ANY };
  const inPolicyNamespace: StringMatch = { exact: policyNamespace };
  if ('exact' in m) {
    const dot = m.exact.indexOf('.');
    return dot < 0 ? { name: m, namespace: inPolicyNamespace } : { name: { exact: m.exact.slice(0, dot) }, namespace: { exact: m.exact.slice(dot + 1) } };
  }
  if ('prefix' in m) {
    const dot = m.prefix.indexOf('.');
    return dot < 0
      ? { name: m, namespace: inPolicyNamespace }
      : { name: { exact: m.prefix.slice(0, dot) }, namespace: orAny({ prefix: m.prefix.slice(dot + 1) }) };
  }
  const dot = m.suffix.lastIndexOf('.');
  return dot < 0
    ? { name: m, namespace: inPolicyNamespace }
    : { name: orAny({ suffix: m.suffix.slice(0, dot) }), namespace: { exact: m.suffix.slice(dot + 1) } };
};

const list = (values: readonly string[] | undefined): StringMatch[] | undefined => values?.map(toStringMatch);
const services = (values: readonly string[] | undefined, ns: string): ServiceMatch[] | undefined => values?.map((v) => toServiceMatch(v, ns));

/** Copies the fields that are set, so that the snapshot holds no `undefined` members. */
const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const source = (s: AuthorizationSource, ns: string): AuthzSource =>
  defined({
    principals: list(s.principals),
    notPrincipals: list(s.notPrincipals),
    namespaces: list(s.namespaces),
    notNamespaces: list(s.notNamespaces),
    services: services(s.services, ns),
    notServices: services(s.notServices, ns),
  });

const operation = (o: AuthorizationOperation): AuthzOperation =>
  defined({ methods: list(o.methods), notMethods: list(o.notMethods), paths: list(o.paths), notPaths: list(o.notPaths) });

const conditionOf = (c: AuthorizationCondition): AuthzCondition =>
  defined({ header: c.header.toLowerCase(), values: list(c.values), notValues: list(c.notValues) });

const rule = (r: AuthorizationRule, ns: string): AuthzRule =>
  defined({
    from: r.from?.map((s) => source(s, ns)),
    to: r.to?.map(operation),
    when: r.when?.map(conditionOf),
  });

/** One policy in the snapshot's form, named `<namespace>/<name>`. */
const policy = (p: AuthorizationPolicy): AuthzPolicy => ({
  name: `${p.metadata.namespace}/${p.metadata.name}`,
  action: p.spec.action,
  rules: p.spec.rules.map((r) => rule(r, p.metadata.namespace)),
});

/** The inbound authorization of one Service: DENY policies first, then ALLOW, each in name order. */
export const compileInboundAuthorization = (input: AuthorizationInput): InboundAuthorization => {
  const applying = input.policies
    .filter((p) => authorizationApplies(p, input.service, input.namespace))
    .map(policy)
    .sort((a, b) => (a.action === b.action ? cmp(a.name, b.name) : a.action === 'DENY' ? -1 : 1));
  return { defaultAction: input.defaultAction, policies: applying };
};

/** A Service's compiled authorization and its content hash (part of the proxy's `routesVersion`). */
export interface CompiledAuthorization {
  readonly config: InboundAuthorization;
  readonly hash: string;
}

/** The authorization of any Service by name and namespace; see {@link authorizationIndex}. */
export type AuthorizationLookup = (service: string, namespace: string) => CompiledAuthorization;

const isAuthorizationPolicy = (p: PolicyResource): p is AuthorizationPolicy => p.kind === 'AuthorizationPolicy';

/**
 * The authorization of each Service, from the policies indexed by target, compiled on first
 * use and kept (a context is immutable, and several proxies share a Service). Services the
 * context does not know yet (a proxy that has not registered) get theirs too.
 */
export const authorizationIndex = (byTarget: ReadonlyMap<string, readonly PolicyResource[]>, mesh: MeshSpec): AuthorizationLookup => {
  const cache = new Map<string, CompiledAuthorization>();
  return (service, namespace) => {
    const key = `${service}.${namespace}`;
    let compiled = cache.get(key);
    if (compiled === undefined) {
      const candidates = [...(byTarget.get(policyTargetKey('Service', namespace, service)) ?? []), ...(byTarget.get(policyTargetKey('Namespace', namespace)) ?? [])];
      const config = deepFreeze(
        compileInboundAuthorization({ service, namespace, policies: candidates.filter(isAuthorizationPolicy), defaultAction: mesh.authorization.defaultAction }),
      );
      compiled = { config, hash: contentHash(config) };
      cache.set(key, compiled);
    }
    return compiled;
  };
};
