import type { AuthzCondition, AuthzOperation, AuthzRule, AuthzSource, InboundAuthorization } from '@weft/api/data-plane';
import type { PeerIdentity } from './peer-identity.js';
import { authzPath } from './request-path.js';
import { anyOf, anyService } from './string-match.js';

/**
 * Authorization of requests for a proxy's own Service, compiled once per config into
 * closures, evaluated per request without building anything. The order (the same as in
 * `AuthorizationPolicy`'s documentation, in the proxy and in `weft authz check`):
 *
 * 1. a matching rule of a DENY policy denies;
 * 2. else a matching rule of an ALLOW policy allows;
 * 3. else, if any ALLOW policy applies, the request is denied;
 * 4. else the mesh default (`defaultAction`) decides.
 */

/** How a decision was reached. */
export type AuthzBasis = 'deny-policy' | 'allow-policy' | 'no-allow-match' | 'mesh-default';

/** The outcome for one request: which policy and rule decided (for 1 and 2), and why, in words. */
export interface AuthzDecision {
  readonly allowed: boolean;
  readonly basis: AuthzBasis;
  /** `<namespace>/<name>` of the deciding policy. */
  readonly policy?: string;
  /** Index of the deciding rule in the policy's `rules`. */
  readonly rule?: number;
  /** One line for `x-weft-error`, logs and `weft authz check`. */
  readonly reason: string;
}

/** Reads one request header by its lower-case name; several values come joined by `,`. */
export type HeaderReader<H> = (headers: H, name: string) => string | undefined;

/** What a request is judged on. `target` is the request target; its query is ignored. */
export interface Authorizer {
  /** True when every request is allowed without looking at it (no policy, default ALLOW). */
  readonly allowsAll: boolean;
  decide<H>(method: string, target: string, peer: PeerIdentity | undefined, headers: H, readHeader: HeaderReader<H>): AuthzDecision;
}

/**
 * A compiled rule, or part of one. Every part takes the same arguments, one by one, so that
 * combining parts needs no request object and no rest-parameter array per call.
 */
type Check = (method: string, path: string, peer: PeerIdentity | undefined, headers: unknown, read: HeaderReader<unknown>) => boolean;

const always: Check = () => true;

/** All of `checks` hold (none: true). */
const every = (checks: readonly Check[]): Check => {
  if (checks.length === 0) return always;
  if (checks.length === 1) return checks[0] as Check;
  return (m, p, peer, h, read) => {
    for (const c of checks) if (!c(m, p, peer, h, read)) return false;
    return true;
  };
};

/** Any of `checks` holds. */
const some = (checks: readonly Check[]): Check => {
  if (checks.length === 1) return checks[0] as Check;
  return (m, p, peer, h, read) => {
    for (const c of checks) if (c(m, p, peer, h, read)) return true;
    return false;
  };
};

/** `from`: positive fields need an identity; `not` fields hold for a caller without one. */
const compileSource = (s: AuthzSource): Check => {
  const checks: Check[] = [];
  if (s.principals !== undefined) {
    const t = anyOf(s.principals);
    checks.push((_m, _p, peer) => peer !== undefined && t(peer.principal));
  }
  if (s.notPrincipals !== undefined) {
    const t = anyOf(s.notPrincipals);
    checks.push((_m, _p, peer) => peer === undefined || !t(peer.principal));
  }
  if (s.namespaces !== undefined) {
    const t = anyOf(s.namespaces);
    checks.push((_m, _p, peer) => peer !== undefined && t(peer.namespace));
  }
  if (s.notNamespaces !== undefined) {
    const t = anyOf(s.notNamespaces);
    checks.push((_m, _p, peer) => peer === undefined || !t(peer.namespace));
  }
  if (s.services !== undefined) {
    const t = anyService(s.services);
    checks.push((_m, _p, peer) => peer !== undefined && t(peer.serviceAccount, peer.namespace));
  }
  if (s.notServices !== undefined) {
    const t = anyService(s.notServices);
    checks.push((_m, _p, peer) => peer === undefined || !t(peer.serviceAccount, peer.namespace));
  }
  return every(checks);
};

/** `to`: method and path (already without its query). */
const compileOperation = (o: AuthzOperation): Check => {
  const checks: Check[] = [];
  if (o.methods !== undefined) {
    const t = anyOf(o.methods);
    checks.push((m) => t(m));
  }
  if (o.notMethods !== undefined) {
    const t = anyOf(o.notMethods);
    checks.push((m) => !t(m));
  }
  if (o.paths !== undefined) {
    const t = anyOf(o.paths);
    checks.push((_m, p) => t(p));
  }
  if (o.notPaths !== undefined) {
    const t = anyOf(o.notPaths);
    checks.push((_m, p) => !t(p));
  }
  return every(checks);
};

/** `when`: `values` need the header present with a matching value; `notValues`, absent or no matching value. */
const compileCondition = (c: AuthzCondition): Check => {
  const name = c.header;
  const values = c.values === undefined ? undefined : anyOf(c.values);
  const notValues = c.notValues === undefined ? undefined : anyOf(c.notValues);
  return (_m, _p, _peer, headers, read) => {
    const v = read(headers, name);
    if (values !== undefined && (v === undefined || !values(v))) return false;
    if (notValues !== undefined && v !== undefined && notValues(v)) return false;
    return true;
  };
};

/** `from` (any entry), `to` (any entry) and `when` (every condition) must all hold. */
const compileRule = (r: AuthzRule): Check =>
  every([
    ...(r.from === undefined ? [] : [some(r.from.map(compileSource))]),
    ...(r.to === undefined ? [] : [some(r.to.map(compileOperation))]),
    ...(r.when === undefined ? [] : [every(r.when.map(compileCondition))]),
  ]);

/** A rule of a policy, with the decision it gives made once. */
interface CompiledRule {
  readonly matches: Check;
  readonly decision: AuthzDecision;
}

const usesPaths = (r: AuthzRule): boolean => (r.to ?? []).some((o) => o.paths !== undefined || o.notPaths !== undefined);

const listNames = (names: readonly string[]): string => (names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`);

/** Compiles the inbound authorization of a snapshot into an {@link Authorizer}. */
export const compileAuthorizer = (config: InboundAuthorization): Authorizer => {
  const deny: CompiledRule[] = [];
  const allow: CompiledRule[] = [];
  const allowPolicies: string[] = [];
  let needsPath = false;
  for (const p of config.policies) {
    if (p.action === 'ALLOW') allowPolicies.push(p.name);
    p.rules.forEach((r, i) => {
      needsPath ||= usesPaths(r);
      const allowed = p.action === 'ALLOW';
      const decision: AuthzDecision = {
        allowed,
        basis: allowed ? 'allow-policy' : 'deny-policy',
        policy: p.name,
        rule: i,
        reason: allowed ? `allowed by AuthorizationPolicy ${p.name} rules[${i}]` : `denied by AuthorizationPolicy ${p.name} rules[${i}] (action DENY)`,
      };
      (allowed ? allow : deny).push({ matches: compileRule(r), decision });
    });
  }
  const fallback: AuthzDecision =
    allowPolicies.length > 0
      ? {
          allowed: false,
          basis: 'no-allow-match',
          reason: `denied: no ALLOW policy matched (ALLOW policies that apply: ${listNames(allowPolicies)})`,
        }
      : config.defaultAction === 'ALLOW'
        ? { allowed: true, basis: 'mesh-default', reason: 'allowed by the mesh default ALLOW (no policy matched)' }
        : { allowed: false, basis: 'mesh-default', reason: 'denied by the mesh default DENY (no ALLOW policy applies to the Service)' };
  const allowsAll = config.policies.length === 0 && config.defaultAction === 'ALLOW';
  return {
    allowsAll,
    decide<H>(method: string, target: string, peer: PeerIdentity | undefined, headers: H, readHeader: HeaderReader<H>): AuthzDecision {
      if (allowsAll) return fallback;
      const path = needsPath ? authzPath(target) : target;
      const read = readHeader as HeaderReader<unknown>;
      for (const r of deny) if (r.matches(method, path, peer, headers, read)) return r.decision;
      for (const r of allow) if (r.matches(method, path, peer, headers, read)) return r.decision;
      return fallback;
    },
  };
};
