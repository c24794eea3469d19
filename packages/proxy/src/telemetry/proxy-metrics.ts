import { registerMirrorMetrics } from '../filters/mirror-metrics.js';
import { registerRateLimitMetrics } from '../ratelimit/rate-limit-metrics.js';
import { registerProcessMetrics } from './process-metrics.js';
import type { CounterChild, GaugeChild, HistogramChild, MetricsRegistry } from './registry.js';

/**
 * The proxy's metrics, named and labelled as Istio's standard metrics so that existing
 * Grafana dashboards, alerts and Kiali work unchanged, plus Weft's own under `weft_proxy_`.
 *
 * The request path never builds label sets: a target (route, backend, inbound port) makes
 * its {@link TrafficLabels} once, with {@link ProxyMetrics.outboundLabels} or
 * {@link ProxyMetrics.inboundLabels}, and each request calls {@link ProxyMetrics.recordHttp}
 * with it, which reaches the cached series through a few Map lookups and allocates nothing
 * once the (status, flags, grpc status) combination has been seen.
 */

/** Istio's default histogram buckets for `istio_request_duration_milliseconds` (Envoy's defaults). */
export const DURATION_BUCKETS_MS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** Buckets for `istio_request_bytes` and `istio_response_bytes`: powers of ten, 1 B to 1 GB. */
export const BYTE_BUCKETS: readonly number[] = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000];

/**
 * The labels of Istio's standard metrics that are fixed for one target (everything but
 * `response_code`, `response_flags` and `grpc_response_status`), in Istio's order. Unknown
 * values are `unknown`, as in Istio.
 */
export const TRAFFIC_LABEL_NAMES = [
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'request_protocol',
  'connection_security_policy',
  'source_canonical_service',
  'destination_canonical_service',
  'source_canonical_revision',
  'destination_canonical_revision',
  'source_cluster',
  'destination_cluster',
] as const;

/** Label values fixed for one target, made once per target and reused for every request. */
export type TrafficLabels = Readonly<Record<(typeof TRAFFIC_LABEL_NAMES)[number], string>>;

/** The {@link TrafficLabels} of an HTTP or gRPC target. */
export type HttpRequestLabels = TrafficLabels;

const HTTP_LABEL_NAMES = [...TRAFFIC_LABEL_NAMES, 'response_code', 'response_flags', 'grpc_response_status'];
const TCP_LABEL_NAMES = [...TRAFFIC_LABEL_NAMES, 'response_flags'];

/** Who this proxy serves: the local workload. */
export interface ProxyIdentity {
  readonly service: string;
  readonly namespace: string;
  /** Workload labels; `app` and `version` feed the labels of the same name. */
  readonly labels: Readonly<Record<string, string>>;
  /** The workload's SPIFFE ID once it has one. */
  readonly principal?: string;
  /** The cluster (or zone) name reported as `*_cluster`. */
  readonly cluster?: string;
}

/** What is known about the workload on the other side of a connection. Missing values are `unknown`. */
export interface PeerWorkload {
  readonly workload?: string;
  readonly namespace?: string;
  readonly principal?: string;
  readonly app?: string;
  readonly version?: string;
  readonly canonicalService?: string;
  readonly canonicalRevision?: string;
  readonly cluster?: string;
}

/** Why an inbound request was denied: a DENY policy, ALLOW policies none of which matched, or the mesh default DENY. */
export type AuthzDeniedReason = 'deny_policy' | 'no_allow_match' | 'mesh_default';

/** Protocols as Istio's `request_protocol` spells them. */
export type RequestProtocol = 'http' | 'grpc' | 'tcp';

/** Istio's `connection_security_policy` values. */
export type ConnectionSecurityPolicy = 'mutual_tls' | 'none' | 'unknown';

/** An outbound target: the service called, and what is known of the instance reached. */
export interface OutboundTarget {
  /** The service's host, e.g. `reviews.default`. */
  readonly service: string;
  readonly serviceName: string;
  readonly serviceNamespace: string;
  readonly protocol: RequestProtocol;
  /** Defaults to `unknown`: Istio's client side reports it so. */
  readonly securityPolicy?: ConnectionSecurityPolicy;
  readonly peer?: PeerWorkload;
}

/** An inbound target: the caller, as far as its identity is known. */
export interface InboundSource {
  readonly protocol: RequestProtocol;
  readonly securityPolicy: ConnectionSecurityPolicy;
  readonly peer?: PeerWorkload;
}

interface HttpSeries {
  readonly requests: CounterChild;
  readonly duration: HistogramChild;
  readonly requestBytes: HistogramChild;
  readonly responseBytes: HistogramChild;
}

interface TcpSeries {
  readonly opened: CounterChild;
  readonly closed: CounterChild;
  readonly sent: CounterChild;
  readonly received: CounterChild;
}

/** Per target: HTTP series by status, then flags, then gRPC status; TCP series by flags. */
interface TargetSeries {
  readonly http: Map<number, Map<string, Map<string, HttpSeries>>>;
  readonly tcp: Map<string, TcpSeries>;
}

const UNKNOWN = 'unknown';

const peerLabels = (p: PeerWorkload | undefined) => ({
  workload: p?.workload ?? UNKNOWN,
  namespace: p?.namespace ?? UNKNOWN,
  principal: p?.principal ?? UNKNOWN,
  app: p?.app ?? UNKNOWN,
  version: p?.version ?? UNKNOWN,
  canonicalService: p?.canonicalService ?? p?.app ?? p?.workload ?? UNKNOWN,
  canonicalRevision: p?.canonicalRevision ?? p?.version ?? 'latest',
  cluster: p?.cluster ?? UNKNOWN,
});

/**
 * One label set in Istio's order: `reporter` says which side records it; `src` and `dst`
 * are the two workloads, `service` the destination service.
 */
const trafficLabels = (
  reporter: 'source' | 'destination',
  src: ReturnType<typeof peerLabels>,
  dst: ReturnType<typeof peerLabels>,
  service: { readonly host: string; readonly name: string; readonly namespace: string },
  protocol: string,
  securityPolicy: string,
): HttpRequestLabels =>
  Object.freeze({
    reporter,
    source_workload: src.workload,
    source_workload_namespace: src.namespace,
    source_principal: src.principal,
    source_app: src.app,
    source_version: src.version,
    destination_workload: dst.workload,
    destination_workload_namespace: dst.namespace,
    destination_principal: dst.principal,
    destination_app: dst.app,
    destination_version: dst.version,
    destination_service: service.host,
    destination_service_name: service.name,
    destination_service_namespace: service.namespace,
    request_protocol: protocol,
    connection_security_policy: securityPolicy,
    source_canonical_service: src.canonicalService,
    destination_canonical_service: dst.canonicalService,
    source_canonical_revision: src.canonicalRevision,
    destination_canonical_revision: dst.canonicalRevision,
    source_cluster: src.cluster,
    destination_cluster: dst.cluster,
  });

/** The proxy's metrics; made by {@link createProxyMetrics}. */
export class ProxyMetrics {
  /** Connections currently open on any listener of this proxy. */
  readonly connectionsActive: GaugeChild;
  /** Requests currently in flight through this proxy. */
  readonly requestsActive: GaugeChild;

  readonly #self: PeerWorkload;
  readonly #localService: { host: string; name: string; namespace: string };
  readonly #targets = new WeakMap<TrafficLabels, TargetSeries>();
  readonly #newHttp: (labels: TrafficLabels, code: string, flags: string, grpc: string) => HttpSeries;
  readonly #newTcp: (labels: TrafficLabels, flags: string) => TcpSeries;
  readonly #configApplied: (routesVersion: string, endpointsVersion: string) => void;
  readonly #rejections: CounterChild;
  readonly #certificateExpiry: GaugeChild;
  readonly #plaintextRefused: CounterChild;
  readonly #authzDenied: (policy: string, reason: AuthzDeniedReason) => CounterChild;
  readonly #process: { stop(): void };

  constructor(registry: MetricsRegistry, identity: ProxyIdentity) {
    const app = identity.labels['app'] ?? identity.service;
    const version = identity.labels['version'];
    this.#self = {
      workload: identity.service,
      namespace: identity.namespace,
      principal: identity.principal,
      app,
      version,
      canonicalService: identity.labels['service.istio.io/canonical-name'] ?? app,
      canonicalRevision: identity.labels['service.istio.io/canonical-revision'] ?? version,
      cluster: identity.cluster,
    };
    this.#localService = {
      host: `${identity.service}.${identity.namespace}`,
      name: identity.service,
      namespace: identity.namespace,
    };

    const requests = registry.counter('istio_requests_total', 'Total requests handled by the proxy.', HTTP_LABEL_NAMES);
    const duration = registry.histogram(
      'istio_request_duration_milliseconds',
      'Request duration in milliseconds.',
      HTTP_LABEL_NAMES,
      DURATION_BUCKETS_MS,
    );
    const requestBytes = registry.histogram('istio_request_bytes', 'Request body sizes in bytes.', HTTP_LABEL_NAMES, BYTE_BUCKETS);
    const responseBytes = registry.histogram('istio_response_bytes', 'Response body sizes in bytes.', HTTP_LABEL_NAMES, BYTE_BUCKETS);
    this.#newHttp = (labels, code, flags, grpc) => {
      const values = { ...labels, response_code: code, response_flags: flags, grpc_response_status: grpc };
      return {
        requests: requests.labels(values),
        duration: duration.labels(values),
        requestBytes: requestBytes.labels(values),
        responseBytes: responseBytes.labels(values),
      };
    };

    const sent = registry.counter('istio_tcp_sent_bytes_total', 'Bytes sent to the peer on TCP connections.', TCP_LABEL_NAMES);
    const received = registry.counter(
      'istio_tcp_received_bytes_total',
      'Bytes received from the peer on TCP connections.',
      TCP_LABEL_NAMES,
    );
    const opened = registry.counter('istio_tcp_connections_opened_total', 'TCP connections opened.', TCP_LABEL_NAMES);
    const closed = registry.counter('istio_tcp_connections_closed_total', 'TCP connections closed.', TCP_LABEL_NAMES);
    this.#newTcp = (labels, flags) => {
      const values = { ...labels, response_flags: flags };
      return {
        opened: opened.labels(values),
        closed: closed.labels(values),
        sent: sent.labels(values),
        received: received.labels(values),
      };
    };

    const info = registry.gauge(
      'weft_proxy_config_info',
      'The configuration the proxy runs: 1 for the versions in effect.',
      ['routes_version', 'endpoints_version'],
    );
    this.#configApplied = (routesVersion, endpointsVersion) => {
      info.reset();
      info.labels({ routes_version: routesVersion, endpoints_version: endpointsVersion }).set(1);
    };
    this.#rejections = registry
      .counter('weft_proxy_config_rejections_total', 'Configurations rejected as invalid; the last good one stays in effect.')
      .labels();
    const authzDenied = registry.counter(
      'weft_proxy_authz_denied_total',
      'Inbound requests denied by authorization, by deciding policy (`none` when no policy matched) and reason.',
      ['policy', 'reason'],
    );
    const deniedSeries = new Map<string, CounterChild>();
    this.#authzDenied = (policy, reason) => {
      const key = `${policy}|${reason}`;
      let child = deniedSeries.get(key);
      if (child === undefined) deniedSeries.set(key, (child = authzDenied.labels({ policy, reason })));
      return child;
    };
    this.#certificateExpiry = registry
      .gauge('weft_proxy_certificate_expiration_timestamp_seconds', "When the proxy's workload certificate expires, as a unix time in seconds (renewed at half its lifetime).")
      .labels();
    this.#plaintextRefused = registry
      .counter('weft_proxy_inbound_plaintext_refused_total', 'Plaintext connections refused on the inbound mesh port because the mesh runs mTLS STRICT.')
      .labels();
    this.connectionsActive = registry.gauge('weft_proxy_connections_active', 'Connections open on the proxy.').labels();
    this.requestsActive = registry.gauge('weft_proxy_requests_active', 'Requests in flight through the proxy.').labels();

    registerMirrorMetrics(registry);
    registerRateLimitMetrics(registry);
    this.#process = registerProcessMetrics(registry);
  }

  /**
   * Labels for traffic this proxy sends (Istio's `reporter="source"`): this workload is the
   * source, the target's service the destination. Call once per target and keep the result.
   */
  outboundLabels(target: OutboundTarget): HttpRequestLabels {
    return trafficLabels('source', peerLabels(this.#self), peerLabels(target.peer), {
      host: target.service,
      name: target.serviceName,
      namespace: target.serviceNamespace,
    }, target.protocol, target.securityPolicy ?? UNKNOWN);
  }

  /**
   * Labels for traffic this proxy receives (Istio's `reporter="destination"`): the caller
   * is the source, this workload and its service the destination. Call once per target
   * (e.g. per inbound port and peer identity) and keep the result.
   */
  inboundLabels(source: InboundSource): HttpRequestLabels {
    return trafficLabels('destination', peerLabels(source.peer), peerLabels(this.#self), this.#localService, source.protocol, source.securityPolicy);
  }

  /**
   * Records one finished HTTP or gRPC request: `istio_requests_total` and the three
   * histograms. `flags` is Envoy's response flag (`-` when none); `grpcStatus` is the
   * `grpc-status` code as text, or `''` for plain HTTP. Allocation-free once this
   * combination has been seen for `labels`.
   */
  recordHttp(
    labels: HttpRequestLabels,
    status: number,
    flags: string,
    grpcStatus: string,
    durationMs: number,
    requestBytes: number,
    responseBytes: number,
  ): void {
    const target = this.#target(labels);
    let byFlags = target.http.get(status);
    if (byFlags === undefined) target.http.set(status, (byFlags = new Map()));
    let byGrpc = byFlags.get(flags);
    if (byGrpc === undefined) byFlags.set(flags, (byGrpc = new Map()));
    let series = byGrpc.get(grpcStatus);
    if (series === undefined) byGrpc.set(grpcStatus, (series = this.#newHttp(labels, String(status), flags, grpcStatus)));
    series.requests.inc();
    series.duration.observe(durationMs);
    series.requestBytes.observe(requestBytes);
    series.responseBytes.observe(responseBytes);
  }

  /** Records a TCP connection opened to or from this target. */
  recordTcpOpened(labels: TrafficLabels): void {
    this.#tcp(labels, '-').opened.inc();
  }

  /**
   * Records bytes moved on a TCP connection since the last call for it. Long-lived
   * connections should report periodically, not only at close, as Envoy does.
   */
  recordTcpBytes(labels: TrafficLabels, sentBytes: number, receivedBytes: number): void {
    const series = this.#tcp(labels, '-');
    series.sent.inc(sentBytes);
    series.received.inc(receivedBytes);
  }

  /** Records a TCP connection closed, with its response flag (`-` when it ended normally). */
  recordTcpClosed(labels: TrafficLabels, flags: string): void {
    this.#tcp(labels, flags).closed.inc();
  }

  /** Sets `weft_proxy_config_info` to the versions now in effect (and only those). */
  configApplied(routesVersion: string, endpointsVersion: string): void {
    this.#configApplied(routesVersion, endpointsVersion);
  }

  /**
   * Counts an inbound request denied by authorization: `policy` is the deciding DENY policy
   * (`<namespace>/<name>`), or undefined when no policy matched (`reason` says why).
   */
  authzDenied(policy: string | undefined, reason: AuthzDeniedReason): void {
    this.#authzDenied(policy ?? 'none', reason).inc();
  }

  /** Counts a plaintext connection refused on a STRICT mesh port. */
  plaintextRefused(): void {
    this.#plaintextRefused.inc();
  }

  /** Records the expiry of the workload certificate now in use. */
  certificateIssued(notAfter: Date): void {
    this.#certificateExpiry.set(Math.floor(notAfter.getTime() / 1000));
  }

  /** Counts a configuration rejected as invalid. */
  configRejected(): void {
    this.#rejections.inc();
  }

  /** Stops the process-metrics sampler; the registry keeps rendering the last values. */
  stop(): void {
    this.#process.stop();
  }

  #target(labels: TrafficLabels): TargetSeries {
    let target = this.#targets.get(labels);
    if (target === undefined) this.#targets.set(labels, (target = { http: new Map(), tcp: new Map() }));
    return target;
  }

  #tcp(labels: TrafficLabels, flags: string): TcpSeries {
    const target = this.#target(labels);
    let series = target.tcp.get(flags);
    if (series === undefined) target.tcp.set(flags, (series = this.#newTcp(labels, flags)));
    return series;
  }
}

/**
 * Registers the proxy's metrics on `registry` for the workload `identity`: Istio's standard
 * HTTP and TCP metrics, `weft_proxy_*`, and process metrics. Call once per registry.
 */
export const createProxyMetrics = (registry: MetricsRegistry, identity: ProxyIdentity): ProxyMetrics =>
  new ProxyMetrics(registry, identity);
