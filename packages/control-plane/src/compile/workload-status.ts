import { isIP } from 'node:net';
import { serviceKey, type Workload } from '@weft/api';
import type { MeshService } from './service-index.js';
import { REASONS, condition, type ResourceStatusReport } from './status.js';

/**
 * The compiler's status of a declared (out-of-mesh) Workload, or undefined for one with
 * `spec.inMesh` (the registry owns those and writes their `Ready`). A declared Workload of a
 * subset Service is refused (a subset has no instances of its own); one with a DNS name is
 * accepted but gives no endpoint until the snapshot can carry names.
 */
export const workloadStatus = (w: Workload, services: ReadonlyMap<string, MeshService>, unusable: ReadonlySet<string>): ResourceStatusReport | undefined => {
  if (w.spec.inMesh) return undefined;
  const { namespace, name, generation } = w.metadata;
  const key = serviceKey(w.spec.service, namespace);
  const report = (ok: boolean, reason: string, message: string): ResourceStatusReport => ({
    kind: 'Workload',
    namespace,
    name,
    conditions: [condition('Accepted', ok, reason, message, generation)],
  });
  if (services.get(key)?.subset !== undefined || unusable.has(key)) {
    return report(false, REASONS.Invalid, `spec.service: Service ${namespace}/${w.spec.service} is a subset Service; declare the instance in its parent Service, with the subset's labels`);
  }
  if (isIP(w.spec.address) === 0) {
    return report(true, REASONS.UnsupportedValue, `spec.address: ${w.spec.address} is a DNS name; proxies reach endpoints by IP address only for now, so this instance gets no traffic`);
  }
  return report(true, REASONS.Accepted, '');
};
