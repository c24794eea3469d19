import {
  _default,
  array,
  boolean,
  discriminatedUnion,
  gte,
  int,
  ipv4,
  ipv6,
  iso,
  literal,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  record,
  startsWith,
  strictObject,
  string,
  union,
  type Infer,
} from './zod-mini.js';
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
export const CertificateReportSchema = strictObject({
  spiffeId: string().check(startsWith('spiffe://'), maxLength(2048)),
  /** `sha256:<hex>` public-key hash of the root the certificate chains to ('' when it chains to no root of the bundle). */
  signerHash: string().check(maxLength(80)),
  notBefore: optional(iso.datetime()),
  notAfter: iso.datetime(),
});
export type CertificateReport = Infer<typeof CertificateReportSchema>;

/** The proxy's first message: the workload it serves and where other proxies reach it. */
export const HelloSchema = strictObject({
  type: literal('hello'),
  /** Workload name, unique in its namespace (defaults to service, address and port). */
  workload: string().check(minLength(1), maxLength(253)),
  service: string().check(minLength(1), maxLength(63)),
  namespace: string().check(minLength(1), maxLength(63)),
  /** Where other proxies reach this one (its inbound mesh port). */
  address: union([ipv4(), ipv6()]),
  port: number().check(int(), gte(1), lte(65535)),
  appProtocol: AppProtocolSchema,
  labels: _default(record(string(), string()), {}),
  /** Services this proxy calls through explicit listeners (`name` or `name.namespace`). */
  upstreams: _default(array(string().check(minLength(1))), []),
  /**
   * True when the proxy has an HTTP proxy listener, through which its app may call any
   * service: the snapshot then holds every service of the mesh, not only `upstreams`.
   */
  allServices: _default(boolean(), false),
  /** The last version this proxy applied (from its cache), so an unchanged config costs nothing. */
  lastVersion: optional(string()),
  /** Unused: a proxy authenticates with its workload certificate (see identity.ts). */
  token: optional(string()),
  /** The workload certificate the proxy serves with, when it has one. */
  certificate: optional(CertificateReportSchema),
  proxyVersion: _default(string(), '0.1.0'),
});
export type Hello = Infer<typeof HelloSchema>;

export const AckSchema = strictObject({ type: literal('ack'), version: string().check(minLength(1)) });
export const NackSchema = strictObject({
  type: literal('nack'),
  version: string().check(minLength(1)),
  /** Why the proxy refused it (field and rule where it can). */
  error: string().check(maxLength(4096)),
});

/** The proxy renewed its workload certificate. */
export const CertificateMessageSchema = strictObject({ type: literal('certificate'), certificate: CertificateReportSchema });

/** Every message a proxy sends. */
export const ProxyMessageSchema = discriminatedUnion('type', [HelloSchema, AckSchema, NackSchema, CertificateMessageSchema]);
export type ProxyMessage = Infer<typeof ProxyMessageSchema>;

/** A snapshot pushed to a proxy; `version` is `routesVersion/endpointsVersion`. */
export const SnapshotMessageSchema = strictObject({
  type: literal('snapshot'),
  version: string().check(minLength(1)),
  snapshot: ProxySnapshotSchema,
});

/** The control plane refuses the stream (bad hello, unknown token); it closes after. */
export const StreamErrorSchema = strictObject({
  type: literal('error'),
  code: string(),
  message: string(),
});

/** Every message the control plane sends. */
export const ControlPlaneMessageSchema = discriminatedUnion('type', [SnapshotMessageSchema, StreamErrorSchema]);
export type ControlPlaneMessage = Infer<typeof ControlPlaneMessageSchema>;
