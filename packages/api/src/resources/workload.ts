import { z } from 'zod';
import { count, dnsLabel, dnsSubdomain, portNumber } from './fields.js';
import { ObjectMetaSchema, conditionList, WEFT_API_VERSION } from './meta.js';

/**
 * `Workload`: one instance of a Service. The control plane writes one for every proxy that
 * registers (`spec` from the proxy's flags, `status` from its connection); users read them
 * with `weft get workloads`. Users may also declare Workloads for instances outside the
 * mesh (a database, a legacy host): those get plaintext calls from proxies, straight to
 * `address:port`.
 *
 * The workload's labels are its `metadata.labels`; `version` and `zone` are well known:
 * subset Services select on them and locality-aware routing reads `zone`.
 */

/** `Workload.spec`. */
export const WorkloadSpecSchema = z
  .strictObject({
    service: dnsLabel().describe('The Service this instance belongs to, in the same namespace.'),
    address: z
      .union([z.ipv4(), z.ipv6(), dnsSubdomain()], { error: 'must be an IPv4 or IPv6 address or a DNS name' })
      .describe('Where callers reach the instance: an IP address, or a DNS name for instances outside the mesh.'),
    port: portNumber().describe("The instance's port: its proxy's mesh-facing inbound port, or (outside the mesh) the application's own."),
    inMesh: z
      .boolean()
      .default(false)
      .describe('True when a Weft proxy fronts the instance (callers use mTLS to `port`); the registry sets it. False (default, for declared instances): callers send plaintext.'),
    weight: count(1, 1000).default(1).describe('Relative share of traffic among the Service\'s instances, for load balancers that weigh endpoints.'),
  })
  .describe('Where the instance is and which Service it belongs to.');
export type WorkloadSpec = z.infer<typeof WorkloadSpecSchema>;

/** Health states of a workload. */
export const WorkloadHealthSchema = z.enum(['HEALTHY', 'UNHEALTHY', 'UNKNOWN']);
export type WorkloadHealth = z.infer<typeof WorkloadHealthSchema>;

const timestamp = () => z.iso.datetime({ offset: true });

/** `Workload.status`: what the control plane knows of the instance. */
export const WorkloadStatusSchema = z
  .strictObject({
    conditions: conditionList().describe('`Ready`: connected, healthy and receiving traffic (False with the reason otherwise).'),
    health: WorkloadHealthSchema.default('UNKNOWN').describe(
      '`HEALTHY`, `UNHEALTHY` (its proxy\'s stream dropped, or health checks fail; its endpoint is withdrawn after a grace period) or `UNKNOWN`.',
    ),
    identity: z.string().max(2048).optional().describe('SPIFFE ID in the certificate of its proxy, e.g. `spiffe://cluster.local/ns/default/sa/reviews`.'),
    proxy: z
      .strictObject({
        id: z.string().min(1).max(256).describe('Identifier of the proxy connection.'),
        version: z.string().max(128).optional().describe('Weft version the proxy runs.'),
        connected: z.boolean().describe('Whether its config stream is connected now.'),
        connectedAt: timestamp().optional().describe('When the stream connected.'),
        lastSeenAt: timestamp().optional().describe('Last message from the proxy.'),
      })
      .optional()
      .describe('The proxy fronting the instance; absent for instances outside the mesh.'),
    config: z
      .strictObject({
        acknowledgedVersion: z.string().max(256).optional().describe('Last config version the proxy applied and acknowledged (ACK).'),
        acknowledgedAt: timestamp().optional(),
        rejectedVersion: z.string().max(256).optional().describe('Last config version the proxy refused (NACK); it keeps serving the last good one.'),
        rejectedReason: z.string().max(32768).optional().describe('Why it refused it.'),
      })
      .optional()
      .describe('Config sync: what the proxy runs, and what it refused.'),
    certificate: z
      .strictObject({
        notAfter: timestamp().describe('When the current workload certificate expires.'),
      })
      .optional()
      .describe('The workload certificate of its proxy.'),
  })
  .describe('Written by the control plane. Optional on input, validated, then discarded and replaced.');
export type WorkloadStatus = z.infer<typeof WorkloadStatusSchema>;

/** A `Workload` resource. */
export const WorkloadSchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('Workload'),
    metadata: ObjectMetaSchema,
    spec: WorkloadSpecSchema,
    status: WorkloadStatusSchema.optional(),
  })
  .describe(
    'One registered instance of a Service: address, port, labels (`version`, `zone`), identity, health, connected proxy and acknowledged config version. Written by the control plane when a proxy registers; declarable for instances outside the mesh.',
  );
export type Workload = z.infer<typeof WorkloadSchema>;
export type WorkloadInput = z.input<typeof WorkloadSchema>;
