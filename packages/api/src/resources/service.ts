import { z } from 'zod';
import { AppProtocolSchema } from '../snapshot.js';
import { dnsLabel, labelSelector, portNumber } from './fields.js';
import { ObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';

/**
 * `Service`: a named set of workloads that callers address as `<name>` or
 * `<name>.<namespace>`, and the unit routes and policies attach to. Created on the first
 * registration of a workload when not declared.
 *
 * A Service may instead be a *subset* of another (`subsetOf`): the workloads of that
 * Service that carry some labels, e.g. `version: v2`. This is how Weft routes to a subset
 * by label while keeping HTTPRoute and GRPCRoute exactly the Gateway API: a backendRef names
 * the subset Service (`kind: Service, name: reviews-v2`), which is also what GAMMA users do
 * in Kubernetes (one Service per version), so the same routes apply there unchanged.
 */

/** The default port of a Service that declares none. */
export const DEFAULT_SERVICE_PORT = { name: 'http', port: 80, appProtocol: 'http' as const };

/** One port of a Service. */
export const ServicePortSchema = z
  .strictObject({
    name: dnsLabel().optional().describe('Port name (what `sectionName` in routes and policies refers to); required when there are several ports.'),
    port: portNumber().describe('Port number callers address (`http://reviews:9080/`).'),
    appProtocol: z._default(AppProtocolSchema, 'http').describe('What the port speaks: `http` (default), `http2`, `grpc` or `tcp` (opaque, no HTTP features).'),
  })
  .describe('A port of the Service.');
export type ServicePort = z.infer<typeof ServicePortSchema>;

/** What a subset Service selects. */
export const ServiceSubsetSchema = z
  .strictObject({
    service: dnsLabel().describe('The parent Service, in the same namespace.'),
    labels: labelSelector().describe('Labels a workload of the parent must all carry to belong to the subset, e.g. `version: v2`.'),
  })
  .describe('Makes this Service the subset of `service` whose workloads carry all `labels`. It has no workloads of its own, and takes its ports from the parent.');
export type ServiceSubset = z.infer<typeof ServiceSubsetSchema>;

/** `Service.spec`. */
export const ServiceSpecSchema = z
  .strictObject({
    ports: z
      .array(ServicePortSchema)
      .min(1, 'must list at least one port')
      .max(64)
      .superRefine((ports, ctx) => {
        const numbers = new Map<number, number>();
        const names = new Map<string, number>();
        ports.forEach((p, i) => {
          const n = numbers.get(p.port);
          if (n !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'port'], message: `duplicate port ${p.port} (first at index ${n})` });
          else numbers.set(p.port, i);
          if (p.name === undefined) {
            if (ports.length > 1) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'must be set: a Service with several ports names each' });
            return;
          }
          const m = names.get(p.name);
          if (m !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate port name ${JSON.stringify(p.name)} (first at index ${m})` });
          else names.set(p.name, i);
        });
      })
      .optional()
      .describe('Ports. Default: one port `http`, 80, `http`. A subset Service has none: it uses its parent\'s.'),
    serviceAccount: dnsLabel()
      .optional()
      .describe('Service account of its workloads, the last part of their SPIFFE ID; default: the Service name.'),
    subsetOf: ServiceSubsetSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.subsetOf === undefined) return;
    if (s.ports !== undefined) ctx.addIssue({ code: 'custom', path: ['ports'], message: "a subset Service uses its parent's ports: remove ports" });
    if (s.serviceAccount !== undefined) ctx.addIssue({ code: 'custom', path: ['serviceAccount'], message: "a subset Service uses its parent's workloads and identity: remove serviceAccount" });
  })
  .transform((s) => (s.subsetOf === undefined && s.ports === undefined ? { ...s, ports: [{ ...DEFAULT_SERVICE_PORT }] } : s))
  .describe('Ports and identity of the Service, or the subset of another Service it stands for.');
export type ServiceSpec = z.infer<typeof ServiceSpecSchema>;

/** A `Service` resource. */
export const ServiceSchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('Service'),
    metadata: ObjectMetaSchema,
    spec: ServiceSpecSchema.prefault({}),
    status: ResourceStatusSchema.optional(),
  })
  .superRefine((svc, ctx) => {
    if (svc.spec.subsetOf?.service === svc.metadata.name) {
      ctx.addIssue({ code: 'custom', path: ['spec', 'subsetOf', 'service'], message: 'a Service cannot be a subset of itself' });
    }
  })
  .describe(
    'A named set of workloads with ports and their protocols (`http`, `http2`, `grpc`, `tcp`); routes and policies attach to it. Created on the first registration of a workload when not declared. With `subsetOf`, the workloads of another Service that carry given labels (a version, for canaries).',
  );
export type Service = z.infer<typeof ServiceSchema>;
export type ServiceInput = z.input<typeof ServiceSchema>;
