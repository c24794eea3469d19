import type { Limits } from '@weft/api/data-plane';
import type { HopRef } from '../errors/proxy-error.js';
import { ProxyError } from '../errors/proxy-error.js';
import type { RoutePlan } from '../filters/route-plan.js';
import { pickEndpoint } from '../destination/pick-endpoint.js';
import type { Backend } from '../routing/backend.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { PathRouteRequest, type RouteRequest } from '../routing/route-request.js';
import { matchRoute, type CompiledRoute, type LogicalService, type RoutingTable } from '../routing/routing-table.js';

/** Where an outbound request goes: the endpoint picked, and the hop refs for telemetry. */
export interface Resolved {
  readonly service: LogicalService;
  readonly endpoint: EndpointRef;
  readonly hop: HopRef;
}

/**
 * What an HTTP request resolved to: forwarded to an endpoint, with the filters of its rule
 * and backend (`plan`, undefined when there are none); or answered with a redirect.
 * `prefix` is what the rule's `PathPrefix` match matched, for ReplacePrefixMatch.
 */
export type OutboundDecision =
  | {
      readonly kind: 'forward';
      readonly service: LogicalService;
      /** The rule matched: its retry policy and timeouts. */
      readonly route: CompiledRoute;
      readonly backend: Backend;
      readonly endpoint: EndpointRef;
      /** A sticky cookie the balancer made up for a client without one: set on the response. */
      readonly setCookie: string | undefined;
      /** The request's hash for a hashing balancer (retries pick with it again). */
      readonly hash: number | undefined;
      readonly hop: HopRef;
      readonly plan: RoutePlan | undefined;
      readonly prefix: string | undefined;
      /** The limits of the matched rule: the snapshot's, with the rule's timeouts as `responseTimeoutMs`. */
      readonly limits: Limits;
    }
  | {
      readonly kind: 'redirect';
      readonly service: LogicalService;
      readonly hop: HopRef;
      readonly plan: RoutePlan;
      readonly prefix: string | undefined;
    };

/**
 * Routes an outbound HTTP request through the target hierarchy: logical service (fixed by
 * an explicit listener, or by authority), the first rule one of whose matches the request
 * meets, a weighted backend, an endpoint. Every failure names the hop level it failed at: a
 * service with routes none of which matches answers 404 with flag NR. Synchronous: nothing
 * on this path waits.
 */
export const routeOutbound = (
  table: RoutingTable,
  proxy: string,
  fixedService: string | undefined,
  authority: string,
  req: RouteRequest,
  sourceAddress = '',
): OutboundDecision => {
  const service = fixedService !== undefined ? table.byKey(fixedService) : table.byAuthority(authority);
  if (service === undefined) {
    const what = fixedService ?? authority;
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', `no service "${what}" in this proxy's config`, {
      direction: 'outbound',
      proxy,
      service: what,
    });
  }
  const match = matchRoute(service, req);
  if (match === undefined) {
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', `no route of ${service.key} matches ${req.method} ${req.target}`, {
      direction: 'outbound',
      proxy,
      service: service.key,
    });
  }
  const route = match.route;
  const target = route.pick();
  const plan = target?.plan;
  if (plan?.redirect !== undefined) {
    return { kind: 'redirect', service, hop: { direction: 'outbound', proxy, service: service.key, route: route.name }, plan, prefix: match.prefix };
  }
  const backend = target?.backend;
  const picked = backend === undefined ? undefined : pickEndpoint(backend, req, sourceAddress);
  const endpoint = picked?.endpoint;
  if (backend === undefined || endpoint === undefined) {
    throw new ProxyError('WEFT_ERR_PROXY_NO_HEALTHY_UPSTREAM', `no endpoints for backend ${backend?.name ?? '(none)'}`, {
      direction: 'outbound',
      proxy,
      service: service.key,
      route: route.name,
      backend: backend?.name,
    });
  }
  return {
    kind: 'forward',
    service,
    route,
    backend,
    endpoint,
    setCookie: picked?.setCookie,
    hash: picked?.hash,
    hop: { direction: 'outbound', proxy, service: service.key, route: route.name, backend: backend.name, endpoint: endpoint.key },
    plan,
    prefix: match.prefix,
    limits: route.limits,
  };
};

/**
 * Resolves a connection or request known by its path alone (opaque TCP) to an endpoint. A
 * rule that would redirect has no endpoint to give: it is no route for such a connection.
 */
export const resolveOutbound = (table: RoutingTable, proxy: string, fixedService: string | undefined, authority: string, path: string): Resolved => {
  const d = routeOutbound(table, proxy, fixedService, authority, new PathRouteRequest(path));
  if (d.kind === 'redirect') {
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', `the route of ${d.service.key} for ${path} redirects, which a connection cannot follow`, d.hop);
  }
  return { service: d.service, endpoint: d.endpoint, hop: d.hop };
};
