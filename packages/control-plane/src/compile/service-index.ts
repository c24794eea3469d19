import { DEFAULT_SERVICE_PORT, serviceKey, type ServiceConfig, type Service } from '@weft/api';
import { fitsSnapshotLabels, sortedLabels } from './labels.js';
import { REASONS, cmp, condition, type ResourceStatusReport } from './status.js';
import type { WorkloadRecord } from './workload-record.js';

/** A port as the snapshot carries it. */
export type SnapshotPort = ServiceConfig['ports'][number];

/** What a subset Service selects: its parent's key and the labels. */
export interface SubsetSelector {
  readonly parentKey: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A Service as the compiler uses it: declared, or implied by a registered workload; for a
 * subset Service, the parent it selects from (its ports are the parent's).
 */
export interface MeshService {
  /** `name.namespace`. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly SnapshotPort[];
  readonly origin: 'declared' | 'implied';
  readonly subset?: SubsetSelector;
  /** The service account its workloads' identities name: `spec.serviceAccount`, else its name (a subset's: its parent's). */
  readonly serviceAccount: string;
}

/**
 * The one port of a Service implied by registration: port 80 (the default of a declared
 * Service), speaking the registered `appProtocol` (default `http`) and named after it.
 */
export const impliedPort = (appProtocol: SnapshotPort['protocol'] = DEFAULT_SERVICE_PORT.appProtocol): SnapshotPort => ({
  port: DEFAULT_SERVICE_PORT.port,
  protocol: appProtocol,
  name: appProtocol,
});

/**
 * True for an RFC 1123 label, what the snapshot requires of service names and namespaces.
 * Registry records are checked, since a hello's names are not: a record with another name
 * implies no Service, rather than making every snapshot that would hold it invalid.
 */
export const isDnsLabel = (name: string): boolean => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name);

/** Services by key, and the statuses of the declared ones. */
export interface ServiceIndex {
  readonly services: ReadonlyMap<string, MeshService>;
  readonly statuses: readonly ResourceStatusReport[];
}

const toSnapshotPort = (p: { name?: string | undefined; port: number; appProtocol: SnapshotPort['protocol'] }): SnapshotPort =>
  p.name === undefined ? { port: p.port, protocol: p.appProtocol } : { port: p.port, protocol: p.appProtocol, name: p.name };

/**
 * Indexes the Services: declared ones, then one implied for every (namespace, service) that
 * registered workloads name without a declaration (as registration creates it), with the
 * port of the first record by workload name ({@link impliedPort}). Subset
 * Services are usable when their parent is a usable non-subset Service and their labels fit
 * the snapshot; otherwise they are left out and their status says why.
 */
export const indexServices = (declared: readonly Service[], records: readonly WorkloadRecord[]): ServiceIndex => {
  const services = new Map<string, MeshService>();
  const statuses: ResourceStatusReport[] = [];
  const declaredKeys = new Set(declared.map((s) => serviceKey(s.metadata.name, s.metadata.namespace)));
  for (const s of declared) {
    if (s.spec.subsetOf !== undefined) continue;
    const { name, namespace } = s.metadata;
    const ports = (s.spec.ports ?? [DEFAULT_SERVICE_PORT]).map(toSnapshotPort);
    services.set(serviceKey(name, namespace), { key: serviceKey(name, namespace), name, namespace, ports, origin: 'declared', serviceAccount: s.spec.serviceAccount ?? name });
    statuses.push({ kind: 'Service', namespace, name, conditions: [condition('Accepted', true, REASONS.Accepted, '', s.metadata.generation)] });
  }
  const byName = [...records].sort((a, b) => cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
  for (const r of byName) {
    const key = serviceKey(r.service, r.namespace);
    if (declaredKeys.has(key) || services.has(key) || !isDnsLabel(r.service) || !isDnsLabel(r.namespace)) continue;
    services.set(key, { key, name: r.service, namespace: r.namespace, ports: [impliedPort(r.appProtocol)], origin: 'implied', serviceAccount: r.service });
  }
  for (const s of declared) {
    if (s.spec.subsetOf !== undefined) statuses.push(addSubset(s, s.spec.subsetOf, services, declared));
  }
  return { services, statuses };
};

const addSubset = (
  s: Service,
  subsetOf: NonNullable<Service['spec']['subsetOf']>,
  services: Map<string, MeshService>,
  declared: readonly Service[],
): ResourceStatusReport => {
  const { name, namespace, generation } = s.metadata;
  const report = (accepted: boolean, reason: string, message: string, resolved = true): ResourceStatusReport => ({
    kind: 'Service',
    namespace,
    name,
    conditions: [
      condition('Accepted', accepted, reason, resolved ? message : '', generation),
      resolved
        ? condition('ResolvedRefs', true, REASONS.ResolvedRefs, '', generation)
        : condition('ResolvedRefs', false, REASONS.ParentNotFound, message, generation),
    ],
  });
  const parentKey = serviceKey(subsetOf.service, namespace);
  const parentIsSubset = declared.some((d) => d.spec.subsetOf !== undefined && serviceKey(d.metadata.name, d.metadata.namespace) === parentKey);
  if (parentIsSubset) return report(false, REASONS.Invalid, `spec.subsetOf.service: Service ${namespace}/${subsetOf.service} is itself a subset; a subset must select from a Service with workloads`);
  const parent = services.get(parentKey);
  if (parent === undefined) {
    return report(true, REASONS.Accepted, `spec.subsetOf.service: Service ${namespace}/${subsetOf.service} does not exist; the subset is not usable until it does`, false);
  }
  if (!fitsSnapshotLabels(subsetOf.labels)) {
    return report(false, REASONS.UnsupportedValue, 'spec.subsetOf.labels: proxies select subsets by labels whose keys and values are at most 63 characters');
  }
  services.set(serviceKey(name, namespace), {
    key: serviceKey(name, namespace),
    name,
    namespace,
    ports: parent.ports,
    origin: 'declared',
    subset: { parentKey, labels: sortedLabels(subsetOf.labels) },
    serviceAccount: parent.serviceAccount,
  });
  return report(true, REASONS.Accepted, '');
};
