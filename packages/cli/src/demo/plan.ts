import { join } from 'node:path';
import { instanceName, type DemoMesh } from './mesh-config.js';

/**
 * The demo's plan: from mesh.yaml, ports chosen up front and the control plane's stream
 * address, every instance with its ports and environment, every sidecar with its flags, and
 * the resources the control plane is given (Services, subset Services, HTTPRoutes). Pure, so
 * that the whole wiring of the demo can be read (and tested) without starting anything.
 */

/** Where the demo keeps what it generates. */
export interface DemoPaths {
  /** The demo's folder, e.g. `.weft/demo`. */
  readonly dir: string;
  /** The control plane's data dir: its store, CA and admin token. */
  readonly controlPlane: string;
  /** One join token file per service (mode 0600). */
  readonly tokens: string;
  /** One data dir per sidecar (snapshot and certificate caches). */
  readonly proxies: string;
  /** The resources applied to the control plane, as YAML, for reading. */
  readonly resources: string;
  /** One log file per process. */
  readonly logs: string;
}

export const demoPaths = (dir: string): DemoPaths => ({
  dir,
  controlPlane: join(dir, 'control-plane'),
  tokens: join(dir, 'tokens'),
  proxies: join(dir, 'proxies'),
  resources: join(dir, 'mesh-resources.yaml'),
  logs: join(dir, 'logs'),
});

/** The join token file of one service. */
export const tokenFile = (paths: DemoPaths, service: string): string => join(paths.tokens, `${service}.token`);

/** The port every demo Service declares; sidecars route by service name, not by port. */
const SERVICE_PORT = 80;

export interface PlannedInstance {
  /** `reviews-v1`, or the service's name when it has one instance. */
  readonly name: string;
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The `version` label, `v1` when it has none. */
  readonly version: string;
  readonly command: readonly string[];
  /** Variables of the app beyond PORT, UPSTREAM_* and HTTP_PROXY (known once its sidecar runs). */
  readonly env: Readonly<Record<string, string>>;
  /** The sidecar's mesh-facing port: what other sidecars' snapshots list as its endpoint. */
  readonly meshPort: number;
  /** Where the app listens on loopback. */
  readonly appPort: number;
  readonly upstreams: readonly string[];
  readonly usesHttpProxy: boolean;
}

export interface PlannedSidecar {
  /** The instance's name, or the ingress service's. */
  readonly name: string;
  readonly service: string;
  /** The app behind it; undefined for the client-only ingress. */
  readonly instance: PlannedInstance | undefined;
  /** Flags of `weft proxy`. */
  readonly args: readonly string[];
}

export interface PlannedCanary {
  readonly service: string;
  readonly route: string;
  readonly backends: readonly { readonly subset: Readonly<Record<string, string>>; readonly weight: number; readonly percent: number }[];
}

export interface MeshPlan {
  readonly namespace: string;
  readonly instances: readonly PlannedInstance[];
  /** Every sidecar: the ingress first, then one per instance. */
  readonly sidecars: readonly PlannedSidecar[];
  readonly ingress: PlannedSidecar;
  /** Routes that split traffic between subsets. */
  readonly canaries: readonly PlannedCanary[];
  /** What the control plane is given, in apply order. */
  readonly resources: readonly Record<string, unknown>[];
  /** Services that need a join token: the ingress and every service with instances. */
  readonly tokenServices: readonly string[];
}

/** How long sidecars drain on SIGTERM before closing what is left. */
export const DRAIN_TIMEOUT_MS = 3000;

/** Ports every instance needs before anything starts: its mesh port and its app port. */
export const portsNeeded = (mesh: DemoMesh): number => 2 * mesh.services.reduce((n, s) => n + s.instances.length, 0);

export const planMesh = (mesh: DemoMesh, ports: readonly number[], paths: DemoPaths, controlPlane: string): MeshPlan => {
  if (ports.length < portsNeeded(mesh)) throw new Error(`planMesh: ${portsNeeded(mesh)} ports needed, ${ports.length} given`);
  const ns = mesh.namespace;
  let next = 0;
  const take = (): number => ports[next++] as number;

  const instances: PlannedInstance[] = [];
  for (const svc of mesh.services) {
    svc.instances.forEach((inst, i) => {
      instances.push({
        name: instanceName(svc.name, inst.labels, i, svc.instances.length),
        service: svc.name,
        labels: inst.labels,
        version: inst.labels['version'] ?? 'v1',
        command: inst.command,
        env: inst.env,
        meshPort: take(),
        appPort: take(),
        upstreams: svc.calls.filter((c) => c.via === 'upstream').map((c) => c.service),
        usesHttpProxy: svc.calls.some((c) => c.via === 'http-proxy'),
      });
    });
  }

  const resources = meshResources(mesh);

  const common = (service: string, name: string): string[] => [
    '--service',
    service,
    '--namespace',
    ns,
    '--control-plane',
    controlPlane,
    '--token-file',
    tokenFile(paths, service),
    '--workload',
    name,
    '--data-dir',
    join(paths.proxies, name),
    '--admin-port',
    '0',
    '--drain-timeout',
    String(DRAIN_TIMEOUT_MS),
  ];

  const ingress: PlannedSidecar = {
    name: mesh.ingress.service,
    service: mesh.ingress.service,
    instance: undefined,
    args: [...common(mesh.ingress.service, mesh.ingress.service), '--label', `app=${mesh.ingress.service}`, '--upstream', `${mesh.ingress.to}:0`],
  };

  const sidecars: PlannedSidecar[] = [ingress];
  for (const inst of instances) {
    const labels = { app: inst.service, ...inst.labels };
    sidecars.push({
      name: inst.name,
      service: inst.service,
      instance: inst,
      args: [
        ...common(inst.service, inst.name),
        '--port',
        String(inst.meshPort),
        '--app-port',
        String(inst.appPort),
        ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
        ...inst.upstreams.flatMap((u) => ['--upstream', `${u}:0`]),
        ...(inst.usesHttpProxy ? ['--http-proxy-port', '0'] : []),
      ],
    });
  }

  const canaries: PlannedCanary[] = [];
  for (const svc of mesh.services) {
    for (const r of svc.routes) {
      const refs = r.backendRefs.filter((b) => b.subset !== undefined);
      if (refs.length < 2) continue;
      const total = refs.reduce((n, b) => n + b.weight, 0) || 1;
      canaries.push({
        service: svc.name,
        route: r.name,
        backends: refs.map((b) => ({ subset: b.subset ?? {}, weight: b.weight, percent: Math.round((1000 * b.weight) / total) / 10 })),
      });
    }
  }

  const tokenServices = [mesh.ingress.service, ...mesh.services.filter((s) => s.instances.length > 0).map((s) => s.name)];
  return { namespace: ns, instances, sidecars, ingress, canaries, resources, tokenServices };
};

/** The name of the subset Service of `service` with `labels`: `reviews-v1` for `{version: v1}`. */
export const subsetServiceName = (service: string, labels: Readonly<Record<string, string>>): string => [service, ...Object.values(labels)].join('-');

/**
 * The resources of the demo mesh: a Service per service (and the ingress), a subset Service
 * per subset a route sends to, and an HTTPRoute per route of mesh.yaml, attached to its
 * Service (the Gateway API's mesh profile).
 */
const meshResources = (mesh: DemoMesh): Record<string, unknown>[] => {
  const ns = mesh.namespace;
  const service = (name: string): Record<string, unknown> => ({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { ports: [{ name: 'http', port: SERVICE_PORT, appProtocol: 'http' }] },
  });
  const services = [service(mesh.ingress.service), ...mesh.services.map((s) => service(s.name))];
  const subsets = new Map<string, Record<string, unknown>>();
  const routes: Record<string, unknown>[] = [];
  for (const svc of mesh.services) {
    for (const r of svc.routes) {
      const backendRefs = r.backendRefs.map((ref) => {
        const target = ref.service ?? svc.name;
        if (ref.subset === undefined) return { name: target, port: SERVICE_PORT, weight: ref.weight };
        const name = subsetServiceName(target, ref.subset);
        subsets.set(name, {
          apiVersion: 'weft.dev/v1alpha1',
          kind: 'Service',
          metadata: { name, namespace: ns },
          spec: { subsetOf: { service: target, labels: { ...ref.subset } } },
        });
        return { name, port: SERVICE_PORT, weight: ref.weight };
      });
      routes.push({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: r.name, namespace: ns },
        spec: { parentRefs: [{ group: '', kind: 'Service', name: svc.name, port: SERVICE_PORT }], rules: [{ backendRefs }] },
      });
    }
  }
  return [...services, ...subsets.values(), ...routes];
};
