import { z } from 'zod';
import { AppProtocolSchema, ProxySnapshotSchema } from './snapshot.js';

/**
 * The config stream between a proxy and the control plane: one long-lived HTTP/2 request
 * (`POST /weft.v1.ConfigStream/Stream`) whose request and response bodies are
 * newline-delimited JSON messages. The proxy says who it is (`hello`), the control plane
 * answers with versioned snapshots, and the proxy acknowledges each one (`ack`) or refuses
 * it (`nack`) while it keeps serving its last good config.
 */

/** Path of the stream on the control plane's stream address. */
export const CONFIG_STREAM_PATH = '/weft.v1.ConfigStream/Stream';

/** Most bytes of one message on the stream, either way. */
export const MAX_STREAM_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * The workload certificate a proxy serves with now: which root it chains to and when it
 * expires. Sent in the hello and again after every renewal, so that `weft check` and a root
 * rotation can tell which proxies still hold a certificate of the old root.
 */
export const CertificateReportSchema = z.strictObject({
  spiffeId: z.string().startsWith('spiffe://').max(2048),
  /** `sha256:<hex>` public-key hash of the root the certificate chains to ('' when it chains to no root of the bundle). */
  signerHash: z.string().max(80),
  notBefore: z.iso.datetime().optional(),
  notAfter: z.iso.datetime(),
});
export type CertificateReport = z.infer<typeof CertificateReportSchema>;

/** The proxy's first message: the workload it serves and where other proxies reach it. */
export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  /** Workload name, unique in its namespace (defaults to service, address and port). */
  workload: z.string().min(1).max(253),
  service: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  /** Where other proxies reach this one (its inbound mesh port). */
  address: z.union([z.ipv4(), z.ipv6()]),
  port: z.number().int().min(1).max(65535),
  appProtocol: AppProtocolSchema,
  labels: z.record(z.string(), z.string()).default({}),
  /** Services this proxy calls through explicit listeners (`name` or `name.namespace`). */
  upstreams: z.array(z.string().min(1)).default([]),
  /**
   * True when the proxy has an HTTP proxy listener, through which its app may call any
   * service: the snapshot then holds every service of the mesh, not only `upstreams`.
   */
  allServices: z.boolean().default(false),
  /** The last version this proxy applied (from its cache), so an unchanged config costs nothing. */
  lastVersion: z.string().optional(),
  /** Unused: a proxy authenticates with its workload certificate (see identity.ts). */
  token: z.string().optional(),
  /** The workload certificate the proxy serves with, when it has one. */
  certificate: CertificateReportSchema.optional(),
  proxyVersion: z.string().default('0.1.0'),
});
export type Hello = z.infer<typeof HelloSchema>;

export const AckSchema = z.strictObject({ type: z.literal('ack'), version: z.string().min(1) });
export const NackSchema = z.strictObject({
  type: z.literal('nack'),
  version: z.string().min(1),
  /** Why the proxy refused it (field and rule where it can). */
  error: z.string().max(4096),
});

/** The proxy renewed its workload certificate. */
export const CertificateMessageSchema = z.strictObject({ type: z.literal('certificate'), certificate: CertificateReportSchema });

/** Every message a proxy sends. */
export const ProxyMessageSchema = z.discriminatedUnion('type', [HelloSchema, AckSchema, NackSchema, CertificateMessageSchema]);
export type ProxyMessage = z.infer<typeof ProxyMessageSchema>;

/** A snapshot pushed to a proxy; `version` is `routesVersion/endpointsVersion`. */
export const SnapshotMessageSchema = z.strictObject({
  type: z.literal('snapshot'),
  version: z.string().min(1),
  snapshot: ProxySnapshotSchema,
});

/** The control plane refuses the stream (bad hello, unknown token); it closes after. */
export const StreamErrorSchema = z.strictObject({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
});

/** Every message the control plane sends. */
export const ControlPlaneMessageSchema = z.discriminatedUnion('type', [SnapshotMessageSchema, StreamErrorSchema]);
export type ControlPlaneMessage = z.infer<typeof ControlPlaneMessageSchema>;
