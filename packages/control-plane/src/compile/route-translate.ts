import { serviceKey, type BackendRef, type GRPCRoute, type GRPCRouteRule, type HTTPRoute, type HTTPRouteRule, type RouteRule } from '@weft/api';
import type { MeshService } from './service-index.js';

/**
 * Translates the rules of an HTTPRoute or GRPCRoute into what the snapshot can carry: path
 * matches (`Exact`, `PathPrefix`) and weighted backends. A rule that uses anything else
 * (header, query or method matches, regular expressions, filters, timeouts, retries) is
 * compiled as written or not at all: it is marked unsupported, with the fields that made it
 * so, and left out of the snapshot, as the Gateway API drops the invalid rules of a
 * partially invalid route. Leaving out a rule narrows routing to what was there before;
 * running it without its header match or timeout would silently do something else.
 */

/** Either route kind. */
export type AnyRoute = HTTPRoute | GRPCRoute;

/** A path match as the snapshot carries it. */
export type SnapshotMatch = RouteRule['matches'][number];

/** One rule of a route, translated (its backends resolved against the mesh's services). */
export interface TranslatedRule {
  readonly index: number;
  /** The snapshot rule's name: `<kind>:<namespace>/<route>#<rule name or index>`. */
  readonly name: string;
  /** How messages name it: `rules[1]` or `rules[1] (canary)`. */
  readonly label: string;
  /** The rule's path matches, or undefined when it is unsupported (see `unsupported`). */
  readonly matches: readonly SnapshotMatch[] | undefined;
  /** The fields that proxies cannot apply yet, e.g. `matches[0].headers`. */
  readonly unsupported: readonly string[];
  /** Snapshot backends; a missing Service stays with weight 0, so it never gets traffic. */
  readonly backendRefs: readonly BackendRef[];
  /** Keys of the services whose endpoints the backends with weight above 0 use. */
  readonly endpointServices: readonly string[];
}

/** A route, translated. */
export interface TranslatedRoute {
  readonly route: AnyRoute;
  /** `HTTPRoute default/reviews`. */
  readonly id: string;
  readonly rules: readonly TranslatedRule[];
  /** One message per backendRef that names no usable Service. */
  readonly missingBackends: readonly string[];
}

const DEFAULT_MATCH: SnapshotMatch = { path: { type: 'PathPrefix', value: '/' } };

/** Translates `route`'s rules; `services` are the usable Services, `unusable` the keys of declared ones left out. */
export const translateRoute = (route: AnyRoute, services: ReadonlyMap<string, MeshService>, unusable: ReadonlySet<string>): TranslatedRoute => {
  const { name, namespace } = route.metadata;
  const missingBackends: string[] = [];
  const rules = ruleList(route).map((r, index): TranslatedRule => {
    const { matches, unsupported } = r.kind === 'HTTPRoute' ? httpMatches(r.rule) : grpcMatches(r.rule);
    const backendRefs: BackendRef[] = [];
    const endpointServices = new Set<string>();
    (r.rule.backendRefs ?? []).forEach((b, j) => {
      const key = serviceKey(b.name, b.namespace ?? namespace);
      const svc = services.get(key);
      if (svc === undefined) {
        const why = unusable.has(key) ? 'is not usable (its status says why)' : 'does not exist';
        missingBackends.push(`rules[${index}].backendRefs[${j}]: Service ${b.namespace ?? namespace}/${b.name} ${why}`);
        backendRefs.push({ service: key, weight: 0 });
        return;
      }
      const target = svc.subset?.parentKey ?? key;
      backendRefs.push(svc.subset === undefined ? { service: key, weight: b.weight } : { service: target, weight: b.weight, subset: svc.subset.labels });
      if (b.weight > 0) endpointServices.add(target);
    });
    (r.rule.backendRefs ?? []).forEach((b, j) => {
      if ((b.filters?.length ?? 0) > 0) unsupported.push(`backendRefs[${j}].filters`);
    });
    if ((r.rule.filters?.length ?? 0) > 0) unsupported.push(`filters (${(r.rule.filters ?? []).map((f) => f.type).join(', ')})`);
    return {
      index,
      name: `${route.kind.toLowerCase()}:${namespace}/${name}#${r.rule.name ?? index}`,
      label: r.rule.name === undefined ? `rules[${index}]` : `rules[${index}] (${r.rule.name})`,
      matches: unsupported.length === 0 ? matches : undefined,
      unsupported,
      backendRefs,
      endpointServices: [...endpointServices].sort(),
    };
  });
  return { route, id: `${route.kind} ${namespace}/${name}`, rules, missingBackends };
};

type AnyRule = { kind: 'HTTPRoute'; rule: HTTPRouteRule } | { kind: 'GRPCRoute'; rule: GRPCRouteRule };

const ruleList = (route: AnyRoute): AnyRule[] =>
  route.kind === 'HTTPRoute'
    ? route.spec.rules.map((rule) => ({ kind: 'HTTPRoute', rule }))
    : (route.spec.rules ?? []).map((rule) => ({ kind: 'GRPCRoute', rule }));

interface MatchResult {
  matches: SnapshotMatch[];
  unsupported: string[];
}

const httpMatches = (rule: HTTPRouteRule): MatchResult => {
  const unsupported: string[] = [];
  const matches = rule.matches.flatMap((m, j): SnapshotMatch[] => {
    if ((m.headers?.length ?? 0) > 0) unsupported.push(`matches[${j}].headers`);
    if ((m.queryParams?.length ?? 0) > 0) unsupported.push(`matches[${j}].queryParams`);
    if (m.method !== undefined) unsupported.push(`matches[${j}].method`);
    if (m.path.type === 'RegularExpression') {
      unsupported.push(`matches[${j}].path (RegularExpression)`);
      return [];
    }
    return [{ path: { type: m.path.type, value: m.path.value } }];
  });
  if (rule.timeouts !== undefined) unsupported.push('timeouts');
  if (rule.retry !== undefined) unsupported.push('retry');
  // The Gateway API: no matches means one PathPrefix "/" match.
  return { matches: rule.matches.length === 0 ? [DEFAULT_MATCH] : matches, unsupported };
};

/**
 * gRPC calls are `POST /<service>/<method>`, so an `Exact` service and method match is the
 * `Exact` path `/<service>/<method>`, and a service alone is the `PathPrefix` `/<service>`.
 * A method without a service, regular expressions and header matches have no path form.
 */
const grpcMatches = (rule: GRPCRouteRule): MatchResult => {
  const unsupported: string[] = [];
  const list = rule.matches ?? [];
  const matches = list.flatMap((m, j): SnapshotMatch[] => {
    if ((m.headers?.length ?? 0) > 0) unsupported.push(`matches[${j}].headers`);
    const method = m.method;
    if (method === undefined) return [DEFAULT_MATCH];
    if (method.type === 'RegularExpression') {
      unsupported.push(`matches[${j}].method (RegularExpression)`);
      return [];
    }
    if (method.service === undefined) {
      unsupported.push(`matches[${j}].method (a method without a service)`);
      return [];
    }
    const service = method.service.replace(/^\./, '');
    return method.method === undefined
      ? [{ path: { type: 'PathPrefix', value: `/${service}` } }]
      : [{ path: { type: 'Exact', value: `/${service}/${method.method}` } }];
  });
  return { matches: list.length === 0 ? [DEFAULT_MATCH] : matches, unsupported };
};
