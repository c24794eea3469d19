import { isIP } from 'node:net';
import { serviceKey, workloadSpiffeId, type Endpoint } from '@weft/api';
import { contentHash } from './hash.js';
import { snapshotLabels } from './labels.js';
import type { MeshService } from './service-index.js';
import { cmp } from './status.js';
import type { WorkloadRecord } from './workload-record.js';

/** Healthy endpoints by service key, with one content hash per service. */
export interface EndpointIndex {
  /** Every non-subset service has an entry, possibly empty; sorted by address and port. */
  readonly endpoints: ReadonlyMap<string, readonly Endpoint[]>;
  /** Content hash of each entry of `endpoints`. */
  readonly hashes: ReadonlyMap<string, string>;
}

/** Why a record gives no endpoint, or undefined when it gives one (health aside). */
export const endpointProblem = (r: WorkloadRecord, services: ReadonlyMap<string, MeshService>): string | undefined => {
  const svc = services.get(serviceKey(r.service, r.namespace));
  if (svc === undefined) return `Service ${r.namespace}/${r.service} is not usable`;
  if (svc.subset !== undefined) return `Service ${r.namespace}/${r.service} is a subset: its instances are those of ${svc.subset.parentKey} that carry its labels`;
  if (isIP(r.address) === 0) return `address ${r.address} is a DNS name: proxies reach endpoints by IP address only for now`;
  return undefined;
};

/**
 * Groups the healthy records into endpoints per service: the address and port other
 * proxies reach (a peer proxy's inbound mesh port, or a declared instance's own), labels
 * that fit the snapshot, and weight. Records whose service is unusable or a subset, or whose
 * address is not an IP, give none. Two records at one address and port give one endpoint
 * (the first by workload name). Each endpoint names the SPIFFE ID its proxy must present:
 * its Service's service account in `trustDomain`.
 */
export const indexEndpoints = (services: ReadonlyMap<string, MeshService>, records: readonly WorkloadRecord[], trustDomain: string): EndpointIndex => {
  const lists = new Map<string, { endpoint: Endpoint; name: string }[]>();
  for (const svc of services.values()) if (svc.subset === undefined) lists.set(svc.key, []);
  for (const r of records) {
    if (!r.healthy || endpointProblem(r, services) !== undefined) continue;
    const svc = services.get(serviceKey(r.service, r.namespace));
    if (svc === undefined) continue;
    lists.get(svc.key)?.push({
      name: `${r.namespace}/${r.name}`,
      endpoint: {
        address: r.address,
        port: r.port,
        labels: snapshotLabels(r.labels),
        weight: r.weight ?? 1,
        identity: workloadSpiffeId(trustDomain, r.namespace, svc.serviceAccount),
      },
    });
  }
  const endpoints = new Map<string, readonly Endpoint[]>();
  const hashes = new Map<string, string>();
  for (const [key, list] of lists) {
    list.sort((a, b) => cmp(a.endpoint.address, b.endpoint.address) || a.endpoint.port - b.endpoint.port || cmp(a.name, b.name));
    const seen = new Set<string>();
    const unique = list.filter(({ endpoint: e }) => {
      const at = `${e.address}|${e.port}`;
      if (seen.has(at)) return false;
      seen.add(at);
      return true;
    });
    const frozen = Object.freeze(unique.map(({ endpoint }) => Object.freeze({ ...endpoint, labels: Object.freeze(endpoint.labels) })));
    endpoints.set(key, frozen);
    hashes.set(key, contentHash(frozen));
  }
  return { endpoints, hashes };
};
