import { serviceKey, type AppProtocol, type Limits, type ProxySnapshot, type RouteRule, type ServiceConfig } from '@weft/api/data-plane';
import { compileRoutePlan, type RoutePlan } from '../filters/route-plan.js';
import { buildBalancer } from '../balancing/build-balancer.js';
import { buildDestinations, Destination, type DestinationEnv } from '../destination/destination.js';
import { staticDestinationEnv } from '../destination/static-env.js';
import { compileRetryPolicy, type CompiledRetryPolicy } from '../resilience/retry-policy.js';
import type { RouteTimeouts } from '../resilience/request-deadline.js';
import { backendName, type Backend } from './backend.js';
import { routeLimits } from './route-limits.js';
import { compileMatch, type CompiledMatch } from './route-match.js';
import { pathOf, PathRouteRequest, type RouteRequest } from './route-request.js';

export type { Backend } from './backend.js';

/** Where one pick of a rule sends a request: a backend and the filters for it, or (a rule that redirects) no backend. */
export interface RouteTarget {
  readonly backend: Backend | undefined;
  /** The rule's and the backend's filters, composed; undefined when there are none. */
  readonly plan: RoutePlan | undefined;
}

/** One rule of a service's routes, compiled: its matches and weighted targets. */
export interface CompiledRoute {
  readonly name: string;
  readonly matches: readonly RuleMatch[];
  /** Picks a target by weight; synchronous and allocation free. Undefined when no backend has weight. */
  readonly pick: () => RouteTarget | undefined;
  /** The snapshot's limits with the rule's timeouts applied (see `routeLimits`). */
  readonly limits: Limits;
  /** The rule's retry policy, checked and compiled; undefined: no retries. */
  readonly retry: CompiledRetryPolicy | undefined;
  /** Largest request body kept to be sent again on a retry. */
  readonly maxReplayBodyBytes: number;
  /** The rule's timeouts: `requestMs` spans every attempt, `backendRequestMs` bounds each. */
  readonly timeouts: RouteTimeouts;
}

/** A match of a rule, knowing its rule. */
export interface RuleMatch extends CompiledMatch {
  readonly route: CompiledRoute;
}

/** A service as the outbound side sees it: how to route a request to it. */
export interface LogicalService {
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly ports: ReadonlyMap<number, AppProtocol>;
  /** The protocol of the first declared port: what an explicit upstream listener speaks. */
  readonly defaultProtocol: AppProtocol;
  /** Routes in order; a service without routes of its own has one catch-all route. */
  readonly routes: readonly CompiledRoute[];
  /** Every match of every route, in precedence order: the first one a request meets wins. */
  readonly matches: readonly RuleMatch[];
}

type BackendFor = (service: string, subset: Readonly<Record<string, string>> | undefined) => Backend;

/** A pick among weighted targets: by `Math.random()`, or the one target when there is one. */
const weightedPick = (weighted: readonly { weight: number; target: RouteTarget }[]): (() => RouteTarget | undefined) => {
  if (weighted.length === 0) return () => undefined;
  if (weighted.length === 1) {
    const only = weighted[0]?.target;
    return () => only;
  }
  const total = weighted.reduce((sum, w) => sum + w.weight, 0);
  return () => {
    let r = Math.random() * total;
    for (const w of weighted) {
      r -= w.weight;
      if (r < 0) return w.target;
    }
    return weighted[weighted.length - 1]?.target;
  };
};

const NO_TIMEOUTS: RouteTimeouts = Object.freeze({});

/** Compiles one rule: its matches, and for each backend its plan (the rule's filters, then the backend's). */
const compileRule = (rule: RouteRule, name: string, backendFor: BackendFor, limits: Limits): CompiledRoute => {
  const ruleFilters = rule.filters ?? [];
  let pick: () => RouteTarget | undefined;
  if (ruleFilters.some((f) => f.type === 'RequestRedirect')) {
    const target: RouteTarget = { backend: undefined, plan: compileRoutePlan(ruleFilters, [], backendFor) };
    pick = () => target;
  } else {
    const weighted = rule.backendRefs
      .filter((ref) => ref.weight > 0)
      .map((ref) => ({
        weight: ref.weight,
        target: { backend: backendFor(ref.service, ref.subset), plan: compileRoutePlan(ruleFilters, ref.filters ?? [], backendFor) },
      }));
    pick = weightedPick(weighted);
  }
  const retry = rule.retry === undefined || rule.retry.attempts === 0 ? undefined : compileRetryPolicy(rule.retry);
  const route: CompiledRoute & { matches: RuleMatch[] } = {
    name,
    matches: [],
    pick,
    limits: routeLimits(limits, rule.timeouts),
    retry,
    maxReplayBodyBytes: rule.retry?.maxReplayBodyBytes ?? 0,
    timeouts: rule.timeouts ?? NO_TIMEOUTS,
  };
  for (const m of rule.matches) route.matches.push({ ...compileMatch(m), route });
  return route;
};

/**
 * The outbound routing view of one snapshot, compiled once per config change: services by
 * every authority a client may use, routes as ordered matchers, backends as pickers, and
 * filters as plans. It is immutable; requests read whichever table was current when they
 * arrived.
 */
export class RoutingTable {
  readonly #byAuthority = new Map<string, LogicalService>();
  readonly #byKey = new Map<string, LogicalService>();

  /**
   * `destinations`: those of the config (see buildDestinations); a table made without them
   * (tests of routing alone) builds its own, on system time.
   */
  constructor(snapshot: ProxySnapshot, localNamespace: string, destinations?: ReadonlyMap<string, Destination>, env: DestinationEnv = staticDestinationEnv) {
    const byService = destinations ?? buildDestinations(snapshot.endpoints, snapshot.destinations, undefined, env);
    const backends = new Map<string, Backend>();
    const backendFor: BackendFor = (service, subset) => {
      const name = backendName(service, subset);
      let b = backends.get(name);
      if (b === undefined) {
        // A Service the snapshot has no endpoints for: a destination of none, so its backend answers 503 UH.
        const destination = byService.get(service) ?? new Destination(service, undefined, env);
        const policy = destination.policy;
        const built = buildBalancer({
          endpoints: destination.endpoints,
          loadBalancer: destination.loadBalancer,
          subset,
          locality: policy?.locality,
          caller: env.caller,
          availability: destination.availability,
          loads: destination.loads,
          clock: env.clock,
          random: env.random,
        });
        b = { name, service, destination, balancer: built.balancer, hashKey: built.hashKey };
        backends.set(name, b);
      }
      return b;
    };
    for (const svc of snapshot.services) {
      const logical = this.#compileService(svc, backendFor, snapshot.limits);
      this.#byKey.set(logical.key, logical);
      for (const host of this.#hostsOf(svc, localNamespace)) {
        this.#byAuthority.set(host, logical);
        for (const port of logical.ports.keys()) this.#byAuthority.set(`${host}:${port}`, logical);
      }
    }
  }

  #hostsOf(svc: ServiceConfig, localNamespace: string): string[] {
    const hosts = [`${svc.name}.${svc.namespace}`, `${svc.name}.${svc.namespace}.svc`, `${svc.name}.${svc.namespace}.svc.cluster.local`];
    if (svc.namespace === localNamespace) hosts.push(svc.name);
    return hosts;
  }

  #compileService(svc: ServiceConfig, backendFor: BackendFor, limits: Limits): LogicalService {
    const key = serviceKey(svc.name, svc.namespace);
    const rules: RouteRule[] =
      svc.routes.length > 0
        ? svc.routes
        : [{ name: 'default', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: key, weight: 1 }] }];
    const routes = rules.map((rule, index) => compileRule(rule, rule.name ?? `${key}#${index}`, backendFor, limits));
    const ports = new Map(svc.ports.map((p) => [p.port, p.protocol] as const));
    return {
      key,
      name: svc.name,
      namespace: svc.namespace,
      ports,
      defaultProtocol: svc.ports[0]?.protocol ?? 'http',
      routes,
      matches: routes.flatMap((r) => r.matches),
    };
  }

  /** The service a client means by `host` or `host:port` (case-insensitive), if any. */
  byAuthority(authority: string): LogicalService | undefined {
    return this.#byAuthority.get(authority) ?? this.#byAuthority.get(authority.toLowerCase());
  }

  /** The service with key `name.namespace`, or by bare name in the local namespace. */
  byKey(key: string): LogicalService | undefined {
    return this.#byKey.get(key) ?? this.#byAuthority.get(key);
  }
}

/**
 * The first match of `service`'s routes that `req` meets (a path string is a request known
 * by its path alone), or undefined: rules are in precedence order, so the first wins.
 */
export const matchRoute = (service: LogicalService, req: RouteRequest | string): RuleMatch | undefined => {
  const r = typeof req === 'string' ? new PathRouteRequest(req) : req;
  const path = pathOf(r.target);
  for (const m of service.matches) if (m.test(r, path)) return m;
  return undefined;
};
