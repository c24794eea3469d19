import { z } from 'zod';
import { InboundPolicySchema } from './snapshot-authz.js';
import { DestinationPolicySnapshotSchema } from './snapshot-policies.js';
import { RouteRuleSchema } from './snapshot-routes.js';
import { dnsLabel, labels, port } from './snapshot-fields.js';
import { TransportSchema } from './snapshot-transport.js';

export * from './snapshot-authz.js';
export * from './snapshot-inbound-policies.js';
export * from './snapshot-policies.js';
export * from './snapshot-routes.js';
export * from './snapshot-transport.js';

/**
 * The proxy snapshot: the whole configuration one sidecar runs, as the control plane
 * compiles it (or as `weft proxy --config FILE` reads it). Routes and policies are
 * versioned apart from endpoints, because endpoints churn far more often and a proxy
 * must be able to tell the two kinds of change apart.
 */

/** Application protocols a port may declare (Kubernetes `appProtocol` values). */
export const AppProtocolSchema = z.enum(['http', 'http2', 'grpc', 'tcp']);
export type AppProtocol = z.infer<typeof AppProtocolSchema>;

/** One instance of a service as the calling proxy reaches it: the remote sidecar's mesh port. */
export const EndpointSchema = z.strictObject({
  address: z.union([z.ipv4(), z.ipv6()]),
  port,
  labels: labels.default({}),
  weight: z.number().int().min(1).max(1000).default(1),
  /**
   * The SPIFFE ID this endpoint's proxy must present: a caller refuses a certificate that
   * names any other. Unset: any certificate the trust bundle accepts (static TLS).
   */
  identity: z.string().startsWith('spiffe://').max(2048).optional(),
});
export type Endpoint = z.infer<typeof EndpointSchema>;

/**
 * A service this proxy calls, or serves: its identity, ports and routes. The key by which
 * endpoints and backend refs name it is `<name>.<namespace>`.
 */
export const ServiceConfigSchema = z.strictObject({
  name: dnsLabel,
  namespace: dnsLabel.default('default'),
  ports: z
    .array(z.strictObject({ port, protocol: AppProtocolSchema.default('http'), name: z.string().optional() }))
    .min(1)
    .default([{ port: 80, protocol: 'http' }]),
  /** Routes in precedence order; without any, all traffic goes to the service's own endpoints. */
  routes: z.array(RouteRuleSchema).default([]),
});
export type ServiceConfig = z.infer<typeof ServiceConfigSchema>;

/** Limits that protect the proxy and the application from bad or abusive peers. */
export const LimitsSchema = z.strictObject({
  /** Total size of a request's head (request line and headers); larger gets 431. */
  maxRequestHeadersBytes: z.number().int().min(1024).max(1024 * 1024).default(16 * 1024),
  /** Largest request body accepted, in bytes; larger gets 413. 0 means unlimited. */
  maxRequestBodyBytes: z.number().int().min(0).default(0),
  /** A client must send a whole request head within this time, or gets 408 and is closed. */
  headersTimeoutMs: z.number().int().min(100).default(10_000),
  /** An idle keep-alive connection is closed after this time. */
  idleTimeoutMs: z.number().int().min(100).default(60_000),
  /** How long protocol detection waits for the first bytes of a connection. */
  detectTimeoutMs: z.number().int().min(10).default(5_000),
  /**
   * Time from sending a request until the response head arrives; past it the request gets
   * 504 with flag UT. 0 (the default) waits as long as the connection lives, as Istio does;
   * routes set their own timeouts.
   */
  responseTimeoutMs: z.number().int().min(0).default(0),
  /** Connect timeout to an upstream endpoint or the local application. */
  connectTimeoutMs: z.number().int().min(10).default(5_000),
  /** Most HTTP/1.1 connections kept to one endpoint; requests beyond wait in a bounded queue. */
  maxConnectionsPerEndpoint: z.number().int().min(1).max(10_000).default(64),
  /** Most requests waiting for a connection to one endpoint; beyond, 503 with flag UO. */
  maxPendingRequestsPerEndpoint: z.number().int().min(0).max(100_000).default(1024),
});
export type Limits = z.infer<typeof LimitsSchema>;

export const ProxySnapshotSchema = z.strictObject({
  apiVersion: z.literal('weft.dev/v1alpha1'),
  kind: z.literal('ProxySnapshot'),
  /** The version of the routes and policies below. */
  routesVersion: z.string().min(1),
  /** The version of the endpoints below. */
  endpointsVersion: z.string().min(1),
  /** Services this proxy calls (and its own, for inbound policy). */
  services: z.array(ServiceConfigSchema).default([]),
  /** Endpoints by service key `<name>.<namespace>`. */
  endpoints: z.record(z.string(), z.array(EndpointSchema)).default({}),
  /**
   * How this proxy reaches each service of `endpoints`, by the same key: the service's
   * DestinationPolicy with the Mesh defaults for the sections it leaves out. Keyed by the
   * service whose endpoints are balanced (a subset's parent), not by the service called,
   * because that is where the balancer, breaker and budget live. The control plane writes
   * an entry for every such service (the Mesh defaults where no policy targets it); a
   * service without one (a snapshot written by hand) is balanced round robin with the
   * default connection-pool limits and budget, and no outlier detection or health checks.
   */
  destinations: z.record(z.string(), DestinationPolicySnapshotSchema).default({}),
  transport: TransportSchema.prefault({}),
  limits: LimitsSchema.default(LimitsSchema.parse({})),
  /** Policies for requests to this proxy's own Service (authorization); the default allows all. */
  inbound: InboundPolicySchema.prefault({}),
});
export type ProxySnapshot = z.infer<typeof ProxySnapshotSchema>;
/** A snapshot as written by hand or sent on the wire, before defaults apply. */
export type ProxySnapshotInput = z.input<typeof ProxySnapshotSchema>;

/** The key by which a snapshot names a service. */
export const serviceKey = (name: string, namespace: string): string => `${name}.${namespace}`;

/** The version string a running snapshot reports: both halves, so either change is visible. */
export const snapshotVersion = (s: Pick<ProxySnapshot, 'routesVersion' | 'endpointsVersion'>): string =>
  `${s.routesVersion}/${s.endpointsVersion}`;
