import { join } from 'node:path';
import { serviceKey, type ProxySnapshotInput } from '@weft/api';
import { instanceName, type DemoMesh, type DemoService } from './mesh-config.js';

/**
 * The demo's plan: from mesh.yaml and ports chosen up front, every instance with its ports
 * and environment, and every sidecar with its flags and its proxy snapshot. Pure, so that
 * the whole wiring of the demo can be read (and tested) without starting anything.
 */

/** Where the demo keeps what it generates. */
export interface DemoPaths {
  /** The demo's folder, e.g. `.weft/demo`. */
  readonly dir: string;
  /** Snapshots, one per sidecar. */
  readonly snapshots: string;
  /** The throwaway CA and one certificate per service. */
  readonly pki: string;
  /** One log file per process. */
  readonly logs: string;
}

export const demoPaths = (dir: string): DemoPaths => ({
  dir,
  snapshots: join(dir, 'snapshots'),
  pki: join(dir, 'pki'),
  logs: join(dir, 'logs'),
});

/** The certificate files of one service's identity (see pki.ts). */
export const certFiles = (pkiDir: string, service: string): { certFile: string; keyFile: string; caFile: string } => ({
  certFile: join(pkiDir, `${service}.crt`),
  keyFile: join(pkiDir, `${service}.key`),
  caFile: join(pkiDir, 'ca.crt'),
});

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
  readonly snapshotFile: string;
  readonly snapshot: ProxySnapshotInput;
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
}

/** How long sidecars drain on SIGTERM before closing what is left. */
export const DRAIN_TIMEOUT_MS = 3000;

/** Ports every instance needs before anything starts: its mesh port and its app port. */
export const portsNeeded = (mesh: DemoMesh): number => 2 * mesh.services.reduce((n, s) => n + s.instances.length, 0);

export const planMesh = (mesh: DemoMesh, ports: readonly number[], paths: DemoPaths): MeshPlan => {
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

  const byName = new Map(mesh.services.map((s) => [s.name, s] as const));
  const serviceConfig = (svc: DemoService): NonNullable<ProxySnapshotInput['services']>[number] => ({
    name: svc.name,
    namespace: ns,
    ports: [{ port: 80, protocol: 'http' }],
    routes: svc.routes.map((r) => ({
      name: r.name,
      backendRefs: r.backendRefs.map((ref) => ({
        service: serviceKey(ref.service ?? svc.name, ns),
        weight: ref.weight,
        ...(ref.subset === undefined ? {} : { subset: ref.subset }),
      })),
    })),
  });
  const endpointsOf = (service: string): NonNullable<ProxySnapshotInput['endpoints']>[string] =>
    instances
      .filter((i) => i.service === service)
      .map((i) => ({ address: '127.0.0.1', port: i.meshPort, labels: { ...i.labels } }));

  /** The snapshot of a sidecar of `self` that calls `calls`: those services, routes and endpoints. */
  const snapshotFor = (self: string, calls: readonly string[]): ProxySnapshotInput => {
    const names = [...new Set([...(byName.has(self) ? [self] : []), ...calls])];
    // Route targets must have their endpoints in the snapshot too.
    for (const n of [...names]) {
      for (const r of byName.get(n)?.routes ?? []) {
        for (const ref of r.backendRefs) if (!names.includes(ref.service ?? n)) names.push(ref.service ?? n);
      }
    }
    const services = names.map((n) => byName.get(n)).filter((s): s is DemoService => s !== undefined);
    return {
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'ProxySnapshot',
      routesVersion: 'demo-1',
      endpointsVersion: 'demo-1',
      services: services.map(serviceConfig),
      endpoints: Object.fromEntries(services.map((s) => [serviceKey(s.name, ns), endpointsOf(s.name)])),
      transport: { tls: { mode: 'static', ...certFiles(paths.pki, self) } },
      limits: { connectTimeoutMs: 2000, responseTimeoutMs: 10_000 },
    };
  };

  const common = (service: string, snapshotFile: string): string[] => [
    '--service',
    service,
    '--namespace',
    ns,
    '--config',
    snapshotFile,
    '--admin-port',
    '0',
    '--drain-timeout',
    String(DRAIN_TIMEOUT_MS),
  ];

  const ingressFile = join(paths.snapshots, `${mesh.ingress.service}.yaml`);
  const ingress: PlannedSidecar = {
    name: mesh.ingress.service,
    service: mesh.ingress.service,
    instance: undefined,
    snapshotFile: ingressFile,
    snapshot: snapshotFor(mesh.ingress.service, [mesh.ingress.to]),
    args: [...common(mesh.ingress.service, ingressFile), '--label', `app=${mesh.ingress.service}`, '--upstream', `${mesh.ingress.to}:0`],
  };

  const sidecars: PlannedSidecar[] = [ingress];
  for (const inst of instances) {
    const svc = byName.get(inst.service) as DemoService;
    const file = join(paths.snapshots, `${inst.name}.yaml`);
    const labels = { app: inst.service, ...inst.labels };
    sidecars.push({
      name: inst.name,
      service: inst.service,
      instance: inst,
      snapshotFile: file,
      snapshot: snapshotFor(inst.service, svc.calls.map((c) => c.service)),
      args: [
        ...common(inst.service, file),
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

  return { namespace: ns, instances, sidecars, ingress, canaries };
};
