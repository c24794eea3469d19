import type { HopRef } from '../errors/proxy-error.js';
import { ProxyError } from '../errors/proxy-error.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { matchRoute, type LogicalService, type RoutingTable } from '../routing/routing-table.js';

/** Where an outbound request goes: the endpoint picked, and the hop refs for telemetry. */
export interface Resolved {
  readonly service: LogicalService;
  readonly endpoint: EndpointRef;
  readonly hop: HopRef;
}

/**
 * Resolves an outbound request through the target hierarchy: logical service (fixed by an
 * explicit listener, or by authority), route by path, weighted backend, endpoint. Every
 * failure names the hop level it failed at. Synchronous: nothing on this path waits.
 */
export const resolveOutbound = (
  table: RoutingTable,
  proxy: string,
  fixedService: string | undefined,
  authority: string,
  path: string,
): Resolved => {
  const service = fixedService !== undefined ? table.byKey(fixedService) : table.byAuthority(authority);
  if (service === undefined) {
    const what = fixedService ?? authority;
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', `no service "${what}" in this proxy's config`, {
      direction: 'outbound',
      proxy,
      service: what,
    });
  }
  const route = matchRoute(service, path);
  if (route === undefined) {
    throw new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', `no route of ${service.key} matches path ${path}`, {
      direction: 'outbound',
      proxy,
      service: service.key,
    });
  }
  const backend = route.pickBackend();
  const endpoint = backend?.picker.pick();
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
    service,
    endpoint,
    hop: { direction: 'outbound', proxy, service: service.key, route: route.name, backend: backend.name, endpoint: endpoint.key },
  };
};
