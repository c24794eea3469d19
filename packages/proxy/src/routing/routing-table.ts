import { serviceKey, type AppProtocol, type ProxySnapshot, type RouteRule, type ServiceConfig } from '@weft/api/data-plane';
import { RoundRobinPicker } from './endpoint-picker.js';

/** A set of endpoints a route sends to: a service, or the subset of it with some labels. */
export interface Backend {
  /** `name.namespace`, with `[k=v,...]` when it is a subset. */
  readonly name: string;
  readonly service: string;
  readonly picker: RoundRobinPicker;
}

/** One rule of a service's routes, compiled: path test and weighted backends. */
export interface CompiledRoute {
  readonly name: string;
  readonly matches: (path: string) => boolean;
  /** Picks a backend by weight; synchronous and allocation free. */
  readonly pickBackend: () => Backend | undefined;
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
}

const pathMatcher = (type: 'PathPrefix' | 'Exact', value: string): ((path: string) => boolean) => {
  if (type === 'Exact') return (path) => path === value || path.startsWith(`${value}?`);
  if (value === '/') return () => true;
  const prefix = value.endsWith('/') ? value.slice(0, -1) : value;
  // Gateway API prefixes match whole path elements: /foo matches /foo and /foo/bar, not /foobar.
  return (path) =>
    path.startsWith(prefix) && (path.length === prefix.length || path[prefix.length] === '/' || path[prefix.length] === '?');
};

const subsetName = (service: string, subset: Readonly<Record<string, string>> | undefined): string =>
  subset === undefined || Object.keys(subset).length === 0
    ? service
    : `${service}[${Object.entries(subset)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}]`;

/**
 * The outbound routing view of one snapshot, compiled once per config change: services by
 * every authority a client may use, routes as ordered matchers, backends as pickers. It is
 * immutable; requests read whichever table was current when they arrived.
 */
export class RoutingTable {
  readonly #byAuthority = new Map<string, LogicalService>();
  readonly #byKey = new Map<string, LogicalService>();

  constructor(snapshot: ProxySnapshot, localNamespace: string) {
    const backends = new Map<string, Backend>();
    const backendFor = (service: string, subset: Readonly<Record<string, string>> | undefined): Backend => {
      const name = subsetName(service, subset);
      let b = backends.get(name);
      if (b === undefined) {
        const all = snapshot.endpoints[service] ?? [];
        const chosen =
          subset === undefined ? all : all.filter((e) => Object.entries(subset).every(([k, v]) => e.labels[k] === v));
        b = { name, service, picker: new RoundRobinPicker(chosen) };
        backends.set(name, b);
      }
      return b;
    };
    for (const svc of snapshot.services) {
      const logical = this.#compileService(svc, backendFor);
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

  #compileService(
    svc: ServiceConfig,
    backendFor: (service: string, subset: Readonly<Record<string, string>> | undefined) => Backend,
  ): LogicalService {
    const key = serviceKey(svc.name, svc.namespace);
    const rules: RouteRule[] =
      svc.routes.length > 0
        ? svc.routes
        : [{ name: 'default', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: key, weight: 1 }] }];
    const routes = rules.map((rule, index): CompiledRoute => {
      const matchers = rule.matches.map((m) => pathMatcher(m.path.type, m.path.value));
      const weighted = rule.backendRefs
        .filter((ref) => ref.weight > 0)
        .map((ref) => ({ weight: ref.weight, backend: backendFor(ref.service, ref.subset) }));
      const total = weighted.reduce((sum, w) => sum + w.weight, 0);
      const single = weighted.length === 1 ? weighted[0]?.backend : undefined;
      return {
        name: rule.name ?? `${key}#${index}`,
        matches: matchers.length === 1 ? (matchers[0] as (p: string) => boolean) : (p) => matchers.some((m) => m(p)),
        pickBackend:
          single !== undefined
            ? () => single
            : () => {
                let r = Math.random() * total;
                for (const w of weighted) {
                  r -= w.weight;
                  if (r < 0) return w.backend;
                }
                return weighted[weighted.length - 1]?.backend;
              },
      };
    });
    const ports = new Map(svc.ports.map((p) => [p.port, p.protocol] as const));
    return {
      key,
      name: svc.name,
      namespace: svc.namespace,
      ports,
      defaultProtocol: svc.ports[0]?.protocol ?? 'http',
      routes,
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

/** The first route of `service` whose matches accept `path`. */
export const matchRoute = (service: LogicalService, path: string): CompiledRoute | undefined => {
  for (const r of service.routes) if (r.matches(path)) return r;
  return undefined;
};
