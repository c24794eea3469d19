import { z } from 'zod';
import { AppProtocolSchema, type Hello, type Workload } from '@weft/api';

/**
 * What the registry knows of one instance of a service, the compiler's only view of
 * workloads. Proxies that registered (`source: 'proxy'`) come from the registry with their
 * live health; instances outside the mesh come from declared `Workload` resources
 * (`source: 'declared'`).
 */
export const WorkloadRecordSchema = z.strictObject({
  /** Workload name, unique in its namespace. */
  name: z.string().min(1).max(253),
  namespace: z.string().min(1).max(63),
  /** The Service it belongs to, in its namespace. */
  service: z.string().min(1).max(63),
  /** Where callers reach it: its proxy's inbound mesh address, or (declared) the instance's own. */
  address: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  labels: z.record(z.string(), z.string()).default({}),
  /** False for a proxy whose stream dropped (past the grace period) or a failing instance. */
  healthy: z.boolean(),
  source: z.enum(['proxy', 'declared']),
  /** What the proxy said its application speaks; used for a Service implied by registration. */
  appProtocol: z.optional(AppProtocolSchema),
  /** Relative share among the service's instances (Workload `spec.weight`); default 1. */
  weight: z.number().int().min(1).max(1000).optional(),
});
/** One instance as the registry knows it (see {@link WorkloadRecordSchema}). */
export type WorkloadRecord = Readonly<z.output<typeof WorkloadRecordSchema>>;

/** The record of a connected proxy, from its hello. */
export const workloadRecordFromHello = (hello: Hello, healthy = true): WorkloadRecord => ({
  name: hello.workload,
  namespace: hello.namespace,
  service: hello.service,
  address: hello.address,
  port: hello.port,
  labels: hello.labels,
  healthy,
  source: 'proxy',
  appProtocol: hello.appProtocol,
});

/**
 * The record of a declared `Workload` resource, or undefined for one with `spec.inMesh`:
 * those are the registry's mirror of a registered proxy, whose live record (and health)
 * the registry passes itself. A declared instance is healthy unless its status says
 * `UNHEALTHY` (health checks may set it).
 */
export const declaredWorkloadRecord = (w: Workload): WorkloadRecord | undefined =>
  w.spec.inMesh
    ? undefined
    : {
        name: w.metadata.name,
        namespace: w.metadata.namespace,
        service: w.spec.service,
        address: w.spec.address,
        port: w.spec.port,
        labels: w.metadata.labels,
        healthy: w.status?.health !== 'UNHEALTHY',
        source: 'declared',
        weight: w.spec.weight,
      };
