import {
  MeshSpecSchema,
  serviceKey,
  TransportSchema,
  type AnyResource,
  type Transport,
  type Endpoint,
  type Mesh,
  type MeshSpec,
  type RouteFault,
  type Service,
  type Workload,
} from '@weft/api';
import { authorizationIndex, type AuthorizationLookup } from './authz.js';
import { destinationIndex, type DestinationLookup } from './destination-policies.js';
import { indexEndpoints } from './endpoint-index.js';
import { indexRouteFaults } from './faults.js';
import { deepFreeze } from './freeze.js';
import { contentHash } from './hash.js';
import { indexPolicies, type PolicyResource } from './policy-index.js';
import { indexRouteRateLimits, type RouteRateLimit } from './rate-limits.js';
import { compileRouteDefaults } from './route-resilience.js';
import { translateRoute, type AnyRoute } from './route-translate.js';
import type { ServiceView } from './route-view.js';
import { indexServices, type MeshService, type SubsetSelector } from './service-index.js';
import { buildRouting, type ServiceRouting } from './service-routing.js';
import { REASONS, cmp, compareReports, condition, type ResourceStatusReport } from './status.js';
import { declaredWorkloadRecord, type WorkloadRecord } from './workload-record.js';
import { workloadStatus } from './workload-status.js';

/** What the compiler compiles from: the stored resources and the registry's records. */
export interface MeshContextInput {
  readonly resources: readonly AnyResource[];
  readonly workloads: readonly WorkloadRecord[];
  /** The CA's trust bundle and signing root: proxies then use workload certificates (mTLS). */
  readonly trust?: MeshTrust;
}

/** What the CA tells the compiler: the roots trusted now and the one that signs. */
export interface MeshTrust {
  /** The CA's trust domain: identities are issued in it, whatever the Mesh says. */
  readonly trustDomain: string;
  readonly trustBundle: readonly string[];
  readonly signerHash: string;
}

/**
 * The whole mesh, indexed and hashed once per change, immutable: what every per-proxy
 * snapshot is cut from, plus the status of every resource.
 */
export interface MeshContext {
  /** The Mesh's spec, defaults applied (also when there is no Mesh resource). */
  readonly mesh: MeshSpec;
  /** Usable Services by `name.namespace`: declared, implied by registration, and subsets. */
  readonly services: ReadonlyMap<string, MeshService>;
  /** The subset Services among them, by key. */
  readonly subsets: ReadonlyMap<string, SubsetSelector>;
  /** HTTPRoutes and GRPCRoutes attached to each Service key (producer and consumer routes). */
  readonly routesByParent: ReadonlyMap<string, readonly AnyRoute[]>;
  /** Policies by target key (see `policyTargetKey`). */
  readonly policiesByTarget: ReadonlyMap<string, readonly PolicyResource[]>;
  /** The faults of FaultPolicies on routes, by snapshot rule name. */
  readonly routeFaults: ReadonlyMap<string, RouteFault>;
  /** RateLimitPolicies on attached routes, by the key of the Service whose proxies enforce them. */
  readonly routeRateLimits: ReadonlyMap<string, readonly RouteRateLimit[]>;
  /** The inbound authorization of a Service (by name and namespace), compiled on first use. */
  readonly authorization: AuthorizationLookup;
  /** How callers reach a Service (by key): its DestinationPolicy over the Mesh defaults, compiled on first use. */
  readonly destination: DestinationLookup;
  /** How proxies talk to each other: workload certificates when the control plane has a CA. */
  readonly transport: Transport;
  readonly transportHash: string;
  /** Healthy endpoints by service key (every non-subset Service, possibly empty). */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  /** Content hash of each service's endpoints. */
  readonly endpointsHash: ReadonlyMap<string, string>;
  /** Per Service, its routing views; each view's `hash` is that Service's routing inputs, resolved. */
  readonly routing: ReadonlyMap<string, ServiceRouting>;
  /** Conditions of every resource (but registry-owned in-mesh Workloads), by kind, namespace, name. */
  readonly statuses: readonly ResourceStatusReport[];
}

/** The view of Service `key` for a caller in `callerNamespace`, or undefined for an unknown key. */
export const routingViewFor = (ctx: MeshContext, key: string, callerNamespace: string): ServiceView | undefined => {
  const r = ctx.routing.get(key);
  return r === undefined ? undefined : (r.consumers.get(callerNamespace) ?? r.outbound);
};

/**
 * Builds the mesh context. Pure and deterministic: the same resources and records, in any
 * order, give the same context. A resource that cannot take effect is reported in
 * `statuses` and left out alone; it never keeps any other resource from compiling.
 */
export const buildMeshContext = (input: MeshContextInput): MeshContext => {
  const resources = uniqueResources(input.resources);
  const of = <K extends AnyResource['kind']>(kind: K): Extract<AnyResource, { kind: K }>[] => resources.filter((r): r is Extract<AnyResource, { kind: K }> => r.kind === kind);
  const declaredServices: Service[] = of('Service');
  const declaredWorkloads: Workload[] = of('Workload');
  const records = uniqueRecords([...input.workloads, ...declaredWorkloads.flatMap((w) => declaredWorkloadRecord(w) ?? [])]);
  const { services, statuses: serviceStatuses } = indexServices(declaredServices, records);
  const meshResource = of('Mesh')[0];
  const mesh = meshResource?.spec ?? MeshSpecSchema.parse({});
  const { endpoints, hashes } = indexEndpoints(services, records, input.trust?.trustDomain ?? mesh.trustDomain);
  const unusable = new Set(declaredServices.map((s) => serviceKey(s.metadata.name, s.metadata.namespace)).filter((k) => !services.has(k)));
  const routes: AnyRoute[] = [...of('HTTPRoute'), ...of('GRPCRoute')];
  const { defaults: routeDefaults, problem: meshProblem } = compileRouteDefaults(mesh);
  const translated = routes.map((r) => translateRoute(r, services, unusable, routeDefaults));
  const { routing, routeStatuses, routesByParent } = buildRouting(services, unusable, translated, routeDefaults);
  const policies = indexPolicies([...of('DestinationPolicy'), ...of('AuthorizationPolicy'), ...of('RateLimitPolicy'), ...of('FaultPolicy')], services, routes);
  const statuses: ResourceStatusReport[] = [
    ...(meshResource === undefined ? [] : [meshStatus(meshResource, meshProblem)]),
    ...serviceStatuses,
    ...declaredWorkloads.flatMap((w) => workloadStatus(w, services, unusable) ?? []),
    ...routeStatuses,
    ...policies.statuses,
  ].sort(compareReports);
  const transport = deepFreeze(transportOf(input.trust, mesh));
  // A route attached to no Service takes no requests: its rate limits are not enforced anywhere.
  const attached = new Set([...routesByParent.values()].flat());
  const subsets = new Map([...services.values()].flatMap((s) => (s.subset === undefined ? [] : [[s.key, s.subset] as const])));
  // Freeze what the compiler made; the resources it indexes belong to the caller and stay as they are.
  return Object.freeze({
    mesh,
    services: deepFreeze(services),
    subsets,
    routesByParent,
    policiesByTarget: policies.byTarget,
    routeFaults: deepFreeze(indexRouteFaults(policies.byTarget, translated)),
    routeRateLimits: indexRouteRateLimits(
      policies.byTarget,
      translated.filter((t) => attached.has(t.route)),
    ),
    authorization: authorizationIndex(policies.byTarget, mesh),
    destination: destinationIndex(policies.byTarget, mesh),
    transport,
    transportHash: contentHash(transport),
    endpoints,
    endpointsHash: hashes,
    routing: deepFreeze(routing),
    statuses: deepFreeze(statuses),
  });
};

/** The Mesh's status: Accepted, with reason UnsupportedValue when proxies refuse one of its defaults. */
const meshStatus = (mesh: Mesh, problem: string | undefined): ResourceStatusReport => ({
  kind: 'Mesh',
  name: mesh.metadata.name,
  conditions: [
    problem === undefined
      ? condition('Accepted', true, REASONS.Accepted, '', mesh.metadata.generation)
      : condition('Accepted', true, REASONS.UnsupportedValue, problem, mesh.metadata.generation),
  ],
});

/** Workload certificates checked against the CA's bundle, in the Mesh's mTLS mode; plaintext without a CA. */
const transportOf = (trust: MeshTrust | undefined, mesh: MeshSpec): Transport =>
  trust === undefined
    ? TransportSchema.parse({ tls: { mode: 'disabled' } })
    : TransportSchema.parse({ tls: { mode: 'workload', trustBundle: [...trust.trustBundle], signerHash: trust.signerHash }, mtlsMode: mesh.mtls.mode });

const identity = (r: AnyResource): string => `${r.kind}|${'namespace' in r.metadata ? r.metadata.namespace : ''}|${r.metadata.name}`;

/** Resources in identity order, the first of duplicates kept. */
const uniqueResources = (list: readonly AnyResource[]): AnyResource[] => {
  const seen = new Set<string>();
  return [...list]
    .sort((a, b) => cmp(identity(a), identity(b)))
    .filter((r) => {
      const id = identity(r);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
};

/** Records in (namespace, name) order; for duplicates the registry's record wins over a declared one. */
const uniqueRecords = (list: readonly WorkloadRecord[]): WorkloadRecord[] => {
  const byId = new Map<string, WorkloadRecord>();
  for (const r of list) if (!byId.has(`${r.namespace}/${r.name}`)) byId.set(`${r.namespace}/${r.name}`, r);
  return [...byId.values()].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
};
