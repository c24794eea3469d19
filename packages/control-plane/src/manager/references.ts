import { CONDITION_TYPES, type AnyResource, type GRPCRoute, type HTTPRoute } from '@weft/api';
import type { ConditionInput } from './conditions.js';
import { keyString } from './keys.js';
import type { StoreKey } from '../store/index.js';

/**
 * Cross-reference checks. A resource that is valid but names something that does not exist
 * (a route to an unknown Service, a policy for a missing target) is stored, not refused, so
 * that resources can be applied in any order (docs/reference/resources.md, "Metadata and
 * status"); its status says what is missing: `ResolvedRefs` False with a reason and every
 * missing reference by field.
 */

/** What a reference is for; it picks the reason of `ResolvedRefs` False. */
export type ReferenceRole = 'parent' | 'backend' | 'mirror' | 'target' | 'subsetOf';

/** One reference from a resource to another. */
export interface Reference {
  /** Where in the referring resource, e.g. `spec.rules[0].backendRefs[1]`. */
  readonly field: string;
  readonly role: ReferenceRole;
  readonly key: StoreKey;
}

/** Reasons of `ResolvedRefs` False, per role (the Gateway API's where it has one). */
const REASON_BY_ROLE: Readonly<Record<ReferenceRole, string>> = {
  parent: 'NoMatchingParent',
  backend: 'BackendNotFound',
  mirror: 'BackendNotFound',
  target: 'TargetNotFound',
  subsetOf: 'ParentNotFound',
};

/** The kinds other resources can refer to: a write or delete of one can change others' `ResolvedRefs`. */
export const REFERABLE_KINDS: ReadonlySet<string> = new Set(['Service', 'HTTPRoute', 'GRPCRoute']);

/** The kinds whose resources hold references. */
export const REFERRING_KINDS = ['Service', 'HTTPRoute', 'GRPCRoute', 'DestinationPolicy', 'AuthorizationPolicy', 'RateLimitPolicy', 'FaultPolicy'] as const;

const service = (namespace: string, name: string): StoreKey => ({ kind: 'Service', namespace, name });

type Route = HTTPRoute | GRPCRoute;
interface BackendLike {
  readonly name: string;
  readonly namespace?: string | undefined;
  readonly filters?: readonly FilterLike[] | undefined;
}
interface FilterLike {
  readonly type: string;
  readonly requestMirror?: { readonly backendRef: { readonly name: string; readonly namespace?: string | undefined } } | undefined;
}

const mirrorRefs = (filters: readonly FilterLike[] | undefined, at: string, ns: string): Reference[] =>
  (filters ?? []).flatMap((f, k) =>
    f.type === 'RequestMirror' && f.requestMirror !== undefined
      ? [{ field: `${at}.filters[${k}].requestMirror.backendRef`, role: 'mirror' as const, key: service(f.requestMirror.backendRef.namespace ?? ns, f.requestMirror.backendRef.name) }]
      : [],
  );

const routeRefs = (r: Route): Reference[] => {
  const ns = r.metadata.namespace;
  const out: Reference[] = r.spec.parentRefs.map((p, i) => ({ field: `spec.parentRefs[${i}]`, role: 'parent' as const, key: service(p.namespace ?? ns, p.name) }));
  const rules: readonly { readonly backendRefs?: readonly BackendLike[] | undefined; readonly filters?: readonly FilterLike[] | undefined }[] = r.spec.rules ?? [];
  rules.forEach((rule, i) => {
    out.push(...mirrorRefs(rule.filters, `spec.rules[${i}]`, ns));
    (rule.backendRefs ?? []).forEach((b, j) => {
      const at = `spec.rules[${i}].backendRefs[${j}]`;
      out.push({ field: at, role: 'backend', key: service(b.namespace ?? ns, b.name) }, ...mirrorRefs(b.filters, at, ns));
    });
  });
  return out;
};

/** Every reference `r` holds, in field order. */
export const referencesOf = (r: AnyResource): Reference[] => {
  switch (r.kind) {
    case 'Service':
      return r.spec.subsetOf === undefined ? [] : [{ field: 'spec.subsetOf.service', role: 'subsetOf', key: service(r.metadata.namespace, r.spec.subsetOf.service) }];
    case 'HTTPRoute':
    case 'GRPCRoute':
      return routeRefs(r);
    case 'DestinationPolicy':
    case 'AuthorizationPolicy':
    case 'RateLimitPolicy':
    case 'FaultPolicy': {
      const t = r.spec.targetRef;
      return t === undefined ? [] : [{ field: 'spec.targetRef', role: 'target', key: { kind: t.kind, namespace: r.metadata.namespace, name: t.name } }];
    }
    case 'Mesh':
    case 'Workload':
      return [];
  }
};

/**
 * `ResolvedRefs` of `r`, given which keys exist: True, or False with the reason of the first
 * missing reference and every missing one listed by field. Undefined for a resource that
 * refers to nothing. A reference to `r` itself (a route whose backend is its own name, a
 * different kind) is looked up like any other.
 */
export const resolvedRefsCondition = (r: AnyResource, exists: (key: StoreKey) => boolean): ConditionInput | undefined => {
  const refs = referencesOf(r);
  if (refs.length === 0) return undefined;
  const generation = r.metadata.generation;
  const gen = generation === undefined ? {} : { observedGeneration: generation };
  const missing = refs.filter((ref) => !exists(ref.key));
  const first = missing[0];
  if (first === undefined) return { type: CONDITION_TYPES.ResolvedRefs, status: 'True', reason: 'ResolvedRefs', message: '', ...gen };
  const seen = new Set<string>();
  const lines = missing.flatMap((m) => {
    const line = `${m.field}: ${m.key.kind} ${m.key.namespace}/${m.key.name} does not exist`;
    if (seen.has(line)) return [];
    seen.add(line);
    return [line];
  });
  return { type: CONDITION_TYPES.ResolvedRefs, status: 'False', reason: REASON_BY_ROLE[first.role], message: lines.join('; '), ...gen };
};

/**
 * The conditions the manager writes when it admits a new resource or a new spec: `Accepted`
 * True (valid and stored; the compiler refines it, e.g. to False `Conflicted`) and, for a
 * resource with references, `ResolvedRefs`.
 */
export const admissionConditions = (r: AnyResource, exists: (key: StoreKey) => boolean): ConditionInput[] => {
  const generation = r.metadata.generation;
  const accepted: ConditionInput = {
    type: CONDITION_TYPES.Accepted,
    status: 'True',
    reason: 'Accepted',
    message: '',
    ...(generation === undefined ? {} : { observedGeneration: generation }),
  };
  const resolved = resolvedRefsCondition(r, exists);
  return resolved === undefined ? [accepted] : [accepted, resolved];
};

/** The keys `r` refers to, as strings (for finding dependents). */
export const referencedKeyStrings = (r: AnyResource): Set<string> => new Set(referencesOf(r).map((ref) => keyString(ref.key)));

