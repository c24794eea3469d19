import {
  routeRegexProblem,
  serviceKey,
  type BackendRef,
  type GRPCRoute,
  type GRPCRouteRule,
  type HTTPRoute,
  type HTTPRouteMatch,
  type HTTPRouteRule,
  type RouteFilter,
  type RouteRule,
} from '@weft/api';
import { translateFilters, type FilterContext } from './route-filters.js';
import { ruleResilience, type RuleResilience } from './route-resilience.js';
import type { MeshService } from './service-index.js';

/**
 * Translates the rules of an HTTPRoute or GRPCRoute into the snapshot's: every match kind
 * (path, method, headers, query parameters; gRPC service, method and metadata), filters
 * weighted backends with their own filters, and the rule's timeouts and retry policy (or
 * the Mesh's route defaults). A rule is compiled as written or not at all: one with a
 * value proxies refuse (a regular expression outside the subset they run, a header filter
 * on `host`) is left out of the snapshot with the reasons, as the Gateway API drops the
 * invalid rules of a partially invalid route. Leaving out a rule narrows routing to what
 * was there before; running it with a different expression would silently do something
 * else.
 */

/** Either route kind. */
export type AnyRoute = HTTPRoute | GRPCRoute;

/** A match as the snapshot carries it. */
export type SnapshotMatch = RouteRule['matches'][number];

/** One rule of a route, translated (its backends resolved against the mesh's services). */
export interface TranslatedRule {
  readonly index: number;
  /** The snapshot rule's name: `<kind>:<namespace>/<route>#<rule name or index>`. */
  readonly name: string;
  /** The rule's own `name`, which a policy's `sectionName` names. */
  readonly ruleName: string | undefined;
  /** How messages name it: `rules[1]` or `rules[1] (canary)`. */
  readonly label: string;
  /** The rule's matches, or undefined when it is left out (see `unsupported` and `refused`). */
  readonly matches: readonly SnapshotMatch[] | undefined;
  /** The fields that proxies cannot apply yet (none at present; kept for the status wording). */
  readonly unsupported: readonly string[];
  /** Values proxies refuse, each with the field and the reason. */
  readonly refused: readonly string[];
  /** The rule's filters, as the snapshot carries them. */
  readonly filters: readonly RouteFilter[];
  /** Whether the rule answers with a redirect (and so has no backends). */
  readonly redirects: boolean;
  /** Snapshot backends; a missing Service stays with weight 0, so it never gets traffic. */
  readonly backendRefs: readonly BackendRef[];
  /** Keys of the services whose endpoints the rule uses: backends with weight above 0, and mirrors. */
  readonly endpointServices: readonly string[];
  /** The rule's timeouts and retry policy, the Mesh's route defaults standing in for those it leaves out. */
  readonly resilience: RuleResilience;
}

/** A route, translated. */
export interface TranslatedRoute {
  readonly route: AnyRoute;
  /** `HTTPRoute default/reviews`. */
  readonly id: string;
  readonly rules: readonly TranslatedRule[];
  /** One message per backendRef that names no usable Service. */
  readonly missingBackends: readonly string[];
  /** One message per mirror left out because its Service is not usable. */
  readonly missingMirrors: readonly string[];
}

const DEFAULT_PATH: SnapshotMatch['path'] = { type: 'PathPrefix', value: '/' };
const DEFAULT_MATCH: SnapshotMatch = { path: DEFAULT_PATH };

/**
 * Translates `route`'s rules; `services` are the usable Services, `unusable` the keys of
 * declared ones left out, `defaults` the Mesh's route defaults.
 */
export const translateRoute = (
  route: AnyRoute,
  services: ReadonlyMap<string, MeshService>,
  unusable: ReadonlySet<string>,
  defaults: RuleResilience = {},
): TranslatedRoute => {
  const { name, namespace } = route.metadata;
  const missingBackends: string[] = [];
  const missingMirrors: string[] = [];
  const rules = ruleList(route).map((r, index): TranslatedRule => {
    const rule = `rules[${index}]`;
    const filterContext = (where: string): FilterContext => ({ where, rule, namespace, services, unusable });
    const { matches, unsupported, refused } = r.kind === 'HTTPRoute' ? httpMatches(r.rule) : grpcMatches(r.rule);
    const ruleFilters = translateFilters(r.rule.filters, filterContext('filters'));
    refused.push(...ruleFilters.refused);
    missingMirrors.push(...ruleFilters.missing);
    const backendRefs: BackendRef[] = [];
    const endpointServices = new Set<string>(ruleFilters.endpointServices);
    (r.rule.backendRefs ?? []).forEach((b, j) => {
      const key = serviceKey(b.name, b.namespace ?? namespace);
      const svc = services.get(key);
      const backendFilters = translateFilters(b.filters, filterContext(`backendRefs[${j}].filters`));
      refused.push(...backendFilters.refused);
      missingMirrors.push(...backendFilters.missing);
      const filters = backendFilters.filters.length === 0 ? {} : { filters: backendFilters.filters };
      if (svc === undefined) {
        const why = unusable.has(key) ? 'is not usable (its status says why)' : 'does not exist';
        missingBackends.push(`${rule}.backendRefs[${j}]: Service ${b.namespace ?? namespace}/${b.name} ${why}`);
        backendRefs.push({ service: key, weight: 0, ...filters });
        return;
      }
      const target = svc.subset?.parentKey ?? key;
      backendRefs.push(
        svc.subset === undefined ? { service: key, weight: b.weight, ...filters } : { service: target, weight: b.weight, subset: svc.subset.labels, ...filters },
      );
      if (b.weight > 0) {
        endpointServices.add(target);
        for (const s of backendFilters.endpointServices) endpointServices.add(s);
      }
    });
    // GRPCRoute rules have no timeouts of their own (Gateway API): the Mesh's apply; their
    // `retry` is a Weft extension.
    const resilience: RuleResilience & { problem?: string } = ruleResilience(r.rule, defaults);
    if (resilience.problem !== undefined) refused.push(resilience.problem);
    const inEffect = unsupported.length === 0 && refused.length === 0;
    return {
      index,
      name: `${route.kind.toLowerCase()}:${namespace}/${name}#${r.rule.name ?? index}`,
      ruleName: r.rule.name,
      label: r.rule.name === undefined ? rule : `${rule} (${r.rule.name})`,
      matches: inEffect ? matches : undefined,
      unsupported,
      refused,
      filters: ruleFilters.filters,
      redirects: ruleFilters.filters.some((f) => f.type === 'RequestRedirect'),
      backendRefs,
      endpointServices: inEffect ? [...endpointServices].sort() : [],
      resilience: { ...(resilience.timeouts === undefined ? {} : { timeouts: resilience.timeouts }), ...(resilience.retry === undefined ? {} : { retry: resilience.retry }) },
    };
  });
  return { route, id: `${route.kind} ${namespace}/${name}`, rules, missingBackends, missingMirrors };
};

type AnyRule = { kind: 'HTTPRoute'; rule: HTTPRouteRule } | { kind: 'GRPCRoute'; rule: GRPCRouteRule };

const ruleList = (route: AnyRoute): AnyRule[] =>
  route.kind === 'HTTPRoute'
    ? route.spec.rules.map((rule) => ({ kind: 'HTTPRoute', rule }))
    : (route.spec.rules ?? []).map((rule) => ({ kind: 'GRPCRoute', rule }));

interface MatchResult {
  matches: SnapshotMatch[];
  unsupported: string[];
  refused: string[];
}

/** Adds the reason `value` is refused as an expression, if it is. */
const checkRegex = (value: string, field: string, refused: string[]): void => {
  const problem = routeRegexProblem(value);
  if (problem !== undefined) refused.push(`${field}: regular expression ${problem}`);
};

type ValueMatches = NonNullable<SnapshotMatch['headers']>;

/** Header or query parameter matches as the snapshot carries them, expressions checked. */
const valueMatches = (list: readonly { type: 'Exact' | 'RegularExpression'; name: string; value: string }[] | undefined, field: string, refused: string[]): ValueMatches | undefined => {
  if (list === undefined || list.length === 0) return undefined;
  return list.map((v, k) => {
    if (v.type === 'RegularExpression') checkRegex(v.value, `${field}[${k}].value`, refused);
    return { type: v.type, name: v.name, value: v.value };
  });
};

/**
 * HTTPRoute matches (as an HTTPRoute rule or a FaultPolicy writes them) in the snapshot's
 * form; `refused` lists the expressions proxies do not run, by field.
 */
export const translateHttpMatches = (list: readonly HTTPRouteMatch[]): { matches: SnapshotMatch[]; refused: string[] } => {
  const refused: string[] = [];
  const matches = list.map((m, j): SnapshotMatch => {
    if (m.path.type === 'RegularExpression') checkRegex(m.path.value, `matches[${j}].path`, refused);
    const headers = valueMatches(m.headers, `matches[${j}].headers`, refused);
    const queryParams = valueMatches(m.queryParams, `matches[${j}].queryParams`, refused);
    return {
      path: { type: m.path.type, value: m.path.value },
      ...(m.method === undefined ? {} : { method: m.method }),
      ...(headers === undefined ? {} : { headers }),
      ...(queryParams === undefined ? {} : { queryParams }),
    };
  });
  return { matches, refused };
};

const httpMatches = (rule: HTTPRouteRule): MatchResult => {
  const { matches, refused } = translateHttpMatches(rule.matches);
  // The Gateway API: no matches means one PathPrefix "/" match.
  return { matches: rule.matches.length === 0 ? [DEFAULT_MATCH] : matches, unsupported: [], refused };
};

/**
 * gRPC matches apply to gRPC calls only (`content-type: application/grpc...`), by the
 * service and method of their path `/<service>/<method>`; a rule without matches takes
 * every gRPC call. A service is compared without the leading "." a fully qualified name
 * may be written with.
 */
const grpcMatches = (rule: GRPCRouteRule): MatchResult => {
  const refused: string[] = [];
  const list = rule.matches ?? [];
  const matches = list.map((m, j): SnapshotMatch => {
    const headers = valueMatches(m.headers, `matches[${j}].headers`, refused);
    const method = m.method;
    const type = method?.type ?? 'Exact';
    const service = method?.service === undefined ? undefined : type === 'Exact' ? method.service.replace(/^\./, '') : method.service;
    if (type === 'RegularExpression') {
      if (service !== undefined) checkRegex(service, `matches[${j}].method.service`, refused);
      if (method?.method !== undefined) checkRegex(method.method, `matches[${j}].method.method`, refused);
    }
    return {
      path: DEFAULT_PATH,
      ...(headers === undefined ? {} : { headers }),
      grpc: { type, ...(service === undefined ? {} : { service }), ...(method?.method === undefined ? {} : { method: method.method }) },
    };
  });
  return { matches: list.length === 0 ? [{ path: DEFAULT_PATH, grpc: { type: 'Exact' } }] : matches, unsupported: [], refused };
};
