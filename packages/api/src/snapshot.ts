import {
  _default,
  array,
  gte,
  int,
  ipv4,
  ipv6,
  literal,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  prefault,
  record,
  startsWith,
  strictObject,
  string,
  union,
  zenum,
  type Infer,
  type Input,
} from './zod-mini.js';
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
export const AppProtocolSchema = zenum(['http', 'http2', 'grpc', 'tcp']);
export type AppProtocol = Infer<typeof AppProtocolSchema>;

/** One instance of a service as the calling proxy reaches it: the remote sidecar's mesh port. */
export const EndpointSchema = strictObject({
  address: union([ipv4(), ipv6()]),
  port,
  labels: _default(labels, {}),
  weight: _default(number().check(int(), gte(1), lte(1000)), 1),
  /**
   * The SPIFFE ID this endpoint's proxy must present: a caller refuses a certificate that
   * names any other. Unset: any certificate the trust bundle accepts (static TLS).
   */
  identity: optional(string().check(startsWith('spiffe://'), maxLength(2048))),
});
export type Endpoint = Infer<typeof EndpointSchema>;

/**
 * A service this proxy calls, or serves: its identity, ports and routes. The key by which
 * endpoints and backend refs name it is `<name>.<namespace>`.
 */
export const ServiceConfigSchema = strictObject({
  name: dnsLabel,
  namespace: _default(dnsLabel, 'default'),
  ports: _default(array(strictObject({ port, protocol: _default(AppProtocolSchema, 'http'), name: optional(string()) })).check(minLength(1)), [
    { port: 80, protocol: 'http' },
  ]),
  /** Routes in precedence order; without any, all traffic goes to the service's own endpoints. */
  routes: _default(array(RouteRuleSchema), []),
});
export type ServiceConfig = Infer<typeof ServiceConfigSchema>;

/** Limits that protect the proxy and the application from bad or abusive peers. */
export const LimitsSchema = strictObject({
  /** Total size of a request's head (request line and headers); larger gets 431. */
  maxRequestHeadersBytes: _default(number().check(int(), gte(1024), lte(1024 * 1024)), 16 * 1024),
  /** Largest request body accepted, in bytes; larger gets 413. 0 means unlimited. */
  maxRequestBodyBytes: _default(number().check(int(), gte(0)), 0),
  /** A client must send a whole request head within this time, or gets 408 and is closed. */
  headersTimeoutMs: _default(number().check(int(), gte(100)), 10_000),
  /** An idle keep-alive connection is closed after this time. */
  idleTimeoutMs: _default(number().check(int(), gte(100)), 60_000),
  /** How long protocol detection waits for the first bytes of a connection. */
  detectTimeoutMs: _default(number().check(int(), gte(10)), 5_000),
  /**
   * Time from sending a request until the response head arrives; past it the request gets
   * 504 with flag UT. 0 (the default) waits as long as the connection lives, as Istio does;
   * routes set their own timeouts.
   */
  responseTimeoutMs: _default(number().check(int(), gte(0)), 0),
  /** Connect timeout to an upstream endpoint or the local application. */
  connectTimeoutMs: _default(number().check(int(), gte(10)), 5_000),
  /** Most HTTP/1.1 connections kept to one endpoint; requests beyond wait in a bounded queue. */
  maxConnectionsPerEndpoint: _default(number().check(int(), gte(1), lte(10_000)), 64),
  /** Most requests waiting for a connection to one endpoint; beyond, 503 with flag UO. */
  maxPendingRequestsPerEndpoint: _default(number().check(int(), gte(0), lte(100_000)), 1024),
});
export type Limits = Infer<typeof LimitsSchema>;

export const ProxySnapshotSchema = strictObject({
  apiVersion: literal('weft.dev/v1alpha1'),
  kind: literal('ProxySnapshot'),
  /** The version of the routes and policies below. */
  routesVersion: string().check(minLength(1)),
  /** The version of the endpoints below. */
  endpointsVersion: string().check(minLength(1)),
  /** Services this proxy calls (and its own, for inbound policy). */
  services: _default(array(ServiceConfigSchema), []),
  /** Endpoints by service key `<name>.<namespace>`. */
  endpoints: _default(record(string(), array(EndpointSchema)), {}),
  /**
   * How this proxy reaches each service of `endpoints`, by the same key: the service's
   * DestinationPolicy with the Mesh defaults for the sections it leaves out. Keyed by the
   * service whose endpoints are balanced (a subset's parent), not by the service called,
   * because that is where the balancer, breaker and budget live. The control plane writes
   * an entry for every such service (the Mesh defaults where no policy targets it); a
   * service without one (a snapshot written by hand) is balanced round robin with the
   * default connection-pool limits and budget, and no outlier detection or health checks.
   */
  destinations: _default(record(string(), DestinationPolicySnapshotSchema), {}),
  transport: prefault(TransportSchema, {}),
  limits: _default(LimitsSchema, LimitsSchema.parse({})),
  /** Policies for requests to this proxy's own Service (authorization); the default allows all. */
  inbound: prefault(InboundPolicySchema, {}),
});
export type ProxySnapshot = Infer<typeof ProxySnapshotSchema>;
/** A snapshot as written by hand or sent on the wire, before defaults apply. */
export type ProxySnapshotInput = Input<typeof ProxySnapshotSchema>;

/** The key by which a snapshot names a service. */
export const serviceKey = (name: string, namespace: string): string => `${name}.${namespace}`;

/** The version string a running snapshot reports: both halves, so either change is visible. */
export const snapshotVersion = (s: Pick<ProxySnapshot, 'routesVersion' | 'endpointsVersion'>): string =>
  `${s.routesVersion}/${s.endpointsVersion}`;
