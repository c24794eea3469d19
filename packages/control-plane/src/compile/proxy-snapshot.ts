import { LimitsSchema, serviceKey, type Endpoint, type Hello, type ProxySnapshot, type ServiceConfig } from '@weft/api';
import type { CompiledAuthorization } from './authz.js';
import type { CompiledDestination } from './destination-policies.js';
import { deepFreeze } from './freeze.js';
import { contentHash, hashText } from './hash.js';
import { routingViewFor, type MeshContext } from './mesh-context.js';
import { compileRateLimits, type CompiledRateLimits } from './rate-limits.js';
import { withFault } from './faults.js';
import { buildInboundView, type ServiceView } from './route-view.js';
import { impliedPort, isDnsLabel } from './service-index.js';
import { cmp } from './status.js';

/** One service of a proxy's snapshot and the view it gets. */
export interface SelectedService {
  readonly key: string;
  /** `outbound`: the proxy calls it; `inbound`: its own Service, which it does not call. */
  readonly role: 'outbound' | 'inbound';
  readonly view: ServiceView;
}

/**
 * What one proxy's snapshot is made of, and its versions: computed from the context's
 * hashes without building the snapshot, so a cache can tell whether anything changed.
 */
export interface ProxySelection {
  /** Sorted by key. */
  readonly services: readonly SelectedService[];
  /** Keys of the services whose endpoints the snapshot holds, sorted. */
  readonly endpointKeys: readonly string[];
  /** The authorization of the proxy's own Service. */
  readonly authorization: CompiledAuthorization;
  /** The RateLimitPolicies of the proxy's own Service. */
  readonly rateLimits: CompiledRateLimits;
  /** The config of each of `services`, in order, with the FaultPolicy faults its callers inject. */
  readonly configs: readonly ServiceConfig[];
  /** The destination policy of each service of `endpointKeys`, in that order. */
  readonly destinations: readonly CompiledDestination[];
  readonly routesVersion: string;
  readonly endpointsVersion: string;
}

/** Limits every snapshot carries for now (the traffic policies will set them per service). */
const LIMITS = deepFreeze(LimitsSchema.parse({}));
const LIMITS_HASH = contentHash(LIMITS);

/**
 * The service key a proxy means by an upstream: `name` (in the proxy's namespace),
 * `name.namespace`, or either followed by `.svc` or `.svc.cluster.local`.
 */
export const resolveUpstreamKey = (upstream: string, namespace: string): string => {
  const [name = upstream, ns = namespace] = upstream.toLowerCase().replace(/\.svc(\.cluster\.local)?$/, '').split('.');
  return serviceKey(name, ns);
};

/**
 * Chooses what `proxy` needs: the services it calls (its `upstreams`, or every Service when
 * `allServices`), each as seen from the proxy's namespace; its own Service for inbound
 * (ports only) when it does not call it; and the endpoints of exactly the services the
 * called services' routes send to. Upstreams that name no Service are left out (the proxy
 * answers "no route" for them until one exists). `routesVersion` hashes the views included
 * and `endpointsVersion` the endpoint lists included, so a change elsewhere leaves both alone.
 * The destination policies of the services whose endpoints are included are routing inputs
 * too: they are hashed into `routesVersion`.
 */
export const selectForProxy = (ctx: MeshContext, proxy: Hello): ProxySelection => {
  const called = new Set<string>();
  if (proxy.allServices) for (const key of ctx.services.keys()) called.add(key);
  else {
    for (const u of proxy.upstreams) {
      const key = resolveUpstreamKey(u, proxy.namespace);
      if (ctx.services.has(key)) called.add(key);
    }
  }
  const services: SelectedService[] = [];
  for (const key of called) {
    const view = routingViewFor(ctx, key, proxy.namespace);
    if (view !== undefined) services.push({ key, role: 'outbound', view });
  }
  const ownKey = serviceKey(proxy.service, proxy.namespace);
  const inbound = ctx.routing.get(ownKey)?.inbound ?? impliedInbound(proxy);
  if (!called.has(ownKey) && inbound !== undefined) services.push({ key: ownKey, role: 'inbound', view: inbound });
  services.sort((a, b) => cmp(a.key, b.key));
  const endpointKeys = [...new Set(services.flatMap((s) => s.view.endpointServices))].sort(cmp);
  // The own Service's authorization is a routing input: a policy change moves exactly its proxies.
  const authorization = ctx.authorization(proxy.service, proxy.namespace);
  const rateLimits = compileRateLimits(ctx.policiesByTarget, ctx.routeRateLimits, proxy.service, proxy.namespace);
  // Only a Service with rate limits hashes them, so that the versions of the others stay as they were.
  const rateLimitsHash = rateLimits.config === undefined ? '' : ` ${rateLimits.hash}`;
  // Faults are injected by callers: the proxy's own Service, which it does not call, carries none.
  const faulted = services.map((s) => (s.role === 'outbound' ? withFault(ctx.policiesByTarget, ctx.routeFaults, s.view.config) : { config: s.view.config, hashLine: '' }));
  const destinations = endpointKeys.map((k) => ctx.destination(k));
  const destinationLines = endpointKeys.map((k, i) => `destination ${k} ${destinations[i]?.hash ?? '-'}`);
  return {
    services,
    endpointKeys,
    authorization,
    rateLimits,
    configs: faulted.map((f) => f.config),
    destinations,
    routesVersion: hashText(
      `${LIMITS_HASH} ${ctx.transportHash}\ninbound ${authorization.hash}${rateLimitsHash}\n${services.map((s) => `${s.key} ${s.view.hash}`).join('\n')}\n${destinationLines.join('\n')}${faulted.map((f) => f.hashLine).join('')}`,
    ),
    endpointsVersion: hashText(endpointKeys.map((k) => `${k} ${ctx.endpointsHash.get(k) ?? '-'}`).join('\n')),
  };
};

/**
 * For a proxy whose Service the context does not know yet (it has not registered): the
 * Service its registration implies, or none when its names are not valid Service names.
 */
const impliedInbound = (proxy: Hello): ServiceView | undefined =>
  isDnsLabel(proxy.service) && isDnsLabel(proxy.namespace)
    ? buildInboundView({ name: proxy.service, namespace: proxy.namespace, ports: [impliedPort(proxy.appProtocol)] })
    : undefined;

/** Builds the snapshot of a selection: shared, frozen parts of the context; never mutate it. */
export const renderProxySnapshot = (ctx: MeshContext, selection: ProxySelection): ProxySnapshot =>
  deepFreeze({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ProxySnapshot',
    routesVersion: selection.routesVersion,
    endpointsVersion: selection.endpointsVersion,
    services: [...selection.configs],
    endpoints: Object.fromEntries(selection.endpointKeys.map((k) => [k, (ctx.endpoints.get(k) ?? []) as Endpoint[]])),
    destinations: Object.fromEntries(selection.endpointKeys.flatMap((k, i) => { const d = selection.destinations[i]; return d === undefined ? [] : [[k, d.config]]; })),
    transport: ctx.transport,
    limits: LIMITS,
    inbound: {
      authorization: selection.authorization.config,
      ...(selection.rateLimits.config === undefined ? {} : { rateLimits: selection.rateLimits.config }),
    },
  });

/**
 * The snapshot `proxy` runs, valid against `ProxySnapshotSchema`: pure and deterministic,
 * so a proxy whose inputs did not change gets byte-identical output with the same versions.
 */
export const compileProxySnapshot = (ctx: MeshContext, proxy: Hello): ProxySnapshot => renderProxySnapshot(ctx, selectForProxy(ctx, proxy));
