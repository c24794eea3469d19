import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { CertificateReport, ProxyBootstrap, ProxySnapshot } from '@weft/api/data-plane';
import { cannotListen, WeftError, type Logger } from '@weft/core';
import { startAdminServer, type AdminConfigView, type AdminServer, type AdminState, type ConfigRejection } from '../admin/admin-server.js';
import type { AuthzDecision } from '../authz/evaluator.js';
import { FileSnapshotSource } from '../config/file-snapshot-source.js';
import { ControlPlaneSource, type ControlPlaneView, type StreamClientTuning } from '../control/control-plane-source.js';
import { resolveInboundPort } from '../control/inbound-port.js';
import { advertisedAddress, defaultWorkloadName } from '../control/workload-name.js';
import type { FinishedRequest } from '../telemetry/finished-request.js';
import type { LogicalService } from '../routing/routing-table.js';
import { createProxyMetrics, type HttpRequestLabels, type ProxyMetrics } from '../telemetry/proxy-metrics.js';
import { MetricsRegistry } from '../telemetry/registry.js';
import { registerDestinationMetrics } from '../destination/destination-metrics.js';
import { ConfigState } from './config-state.js';
import { Proxy, type ProxyHooks } from './proxy.js';
import { controlPlaneTls } from '../identity/control-plane-tls.js';
import { IdentityCache } from '../identity/identity-cache.js';
import { rootHashOf, WorkloadIdentity, type IssuedCertificate } from '../identity/workload-identity.js';

/** A running sidecar: the data plane, its admin port, its config source and telemetry. */
export interface Sidecar {
  readonly proxy: Proxy;
  /** The admin server, unless the sidecar is one worker of several (see `startAdmin`). */
  readonly admin: AdminServer | undefined;
  readonly metrics: ProxyMetrics;
  readonly registry: MetricsRegistry;
  /** What the admin port reports: readiness and the config in effect. */
  readonly state: AdminState;
  /** The bootstrap the proxy runs with (on the config stream, its inbound port resolved). */
  readonly bootstrap: ProxyBootstrap;
  /** The config stream, when the sidecar takes its snapshots from the control plane. */
  readonly controlPlane: ControlPlaneSource | undefined;
  /** Re-reads the config file now (SIGHUP); a no-op on the config stream, which pushes changes. */
  reload(): Promise<void>;
  /** Drains traffic, then closes the admin port and the source. */
  stop(): Promise<void>;
}

/** `weft proxy --control-plane HOST:PORT`: where and as whom to take snapshots from the control plane. */
export interface SidecarControlPlaneOptions {
  /** The control plane's config stream address, `HOST:PORT`. */
  readonly address: string;
  /** Workload name; default `<service>-<address>-<port>`, made an RFC 1123 label. */
  readonly workload?: string;
  /** Directory of the snapshot cache, `<cacheDir>/<workload>.json`; without it nothing is cached. */
  readonly cacheDir?: string;
  /**
   * Join token: authenticates the first certificate issuance and pins the control plane's
   * CA. Needed unless `insecure` (or a cached, still valid certificate).
   */
  readonly token?: string;
  /** Plaintext config stream and no workload certificate (a control plane started with `security: false`). */
  readonly insecure?: boolean;
  /** Stream client timings (tests shorten them). */
  readonly tuning?: StreamClientTuning;
}

/** Options of {@link startSidecar}: exactly one of `configFile` and `controlPlane`. */
export interface SidecarOptions {
  readonly bootstrap: ProxyBootstrap;
  /** `weft proxy --config FILE`: the snapshot file. */
  readonly configFile?: string;
  /** `weft proxy --control-plane HOST:PORT`: snapshots from the config stream. */
  readonly controlPlane?: SidecarControlPlaneOptions;
  /** Aborting it while the sidecar waits for its first snapshot stops it: `startSidecar` rejects. */
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** Start the admin port (default). A worker of a multi-core sidecar leaves it to its primary. */
  readonly startAdmin?: boolean;
  /** Called after each config change was applied or refused. */
  readonly onConfigChange?: () => void;
}

/** What the control plane is told of a certificate: its identity, the root it chains to, its expiry. */
const certificateReport = (cert: IssuedCertificate | undefined): CertificateReport | undefined =>
  cert === undefined
    ? undefined
    : { spiffeId: cert.spiffeId, signerHash: rootHashOf(cert.chainPem, cert.trustBundle) ?? '', notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() };

/** Most distinct callers labelled by principal on inbound metrics. */
const MAX_INBOUND_PEERS = 1000;

/**
 * Telemetry of finished HTTP/1.1 exchanges. Label sets are made once per target (per
 * logical service of a config) and cached, so recording costs a few map lookups.
 */
const exchangeRecorder = (metrics: ProxyMetrics): ((ex: FinishedRequest, direction: 'inbound' | 'outbound') => void) => {
  const byProtocol = (protocol: 'http' | 'grpc') => {
    const outbound = new WeakMap<object, HttpRequestLabels>();
    const unknownTarget = metrics.outboundLabels({ service: 'unknown', serviceName: 'unknown', serviceNamespace: 'unknown', protocol });
    // Inbound label sets by caller: one per principal and security policy, bounded (callers
    // beyond the bound are recorded without their principal rather than grow without limit).
    const inboundBy = new Map<string, HttpRequestLabels>();
    const plaintext = metrics.inboundLabels({ protocol, securityPolicy: 'none' });
    const anonymousTls = metrics.inboundLabels({ protocol, securityPolicy: 'mutual_tls' });
    const inbound = (ex: FinishedRequest): HttpRequestLabels => {
      if (!ex.mutualTls) return plaintext;
      const peer = ex.peer;
      if (peer === undefined) return anonymousTls;
      let labels = inboundBy.get(peer.principal);
      if (labels === undefined) {
        if (inboundBy.size >= MAX_INBOUND_PEERS) return anonymousTls;
        labels = metrics.inboundLabels({ protocol, securityPolicy: 'mutual_tls', peer: { principal: peer.principal, namespace: peer.namespace } });
        inboundBy.set(peer.principal, labels);
      }
      return labels;
    };
    const outboundOf = (target: object | undefined): HttpRequestLabels => {
      if (target === undefined) return unknownTarget;
      let labels = outbound.get(target);
      if (labels === undefined) {
        const svc = target as LogicalService;
        labels = metrics.outboundLabels({ service: svc.key, serviceName: svc.name, serviceNamespace: svc.namespace, protocol });
        outbound.set(target, labels);
      }
      return labels;
    };
    return { inbound, outboundOf };
  };
  const http = byProtocol('http');
  const grpc = byProtocol('grpc');
  return (ex, direction) => {
    if (ex.upgraded) return;
    const p = ex.protocol === 'grpc' ? grpc : http;
    const labels = direction === 'inbound' ? p.inbound(ex) : p.outboundOf(ex.target);
    metrics.recordHttp(labels, ex.status, ex.flag, ex.grpcStatus, performance.now() - ex.startedAt, ex.requestBytes, ex.responseBytes);
  };
};

/** What the data plane reports to telemetry: finished requests and authorization denials. */
const proxyHooks = (metrics: ProxyMetrics): ProxyHooks => ({
  onExchangeEnd: exchangeRecorder(metrics),
  onPlaintextRefused: () => metrics.plaintextRefused(),
  onAuthzDenied: (d: AuthzDecision) =>
    metrics.authzDenied(d.policy, d.basis === 'deny-policy' ? 'deny_policy' : d.basis === 'no-allow-match' ? 'no_allow_match' : 'mesh_default'),
});

/** `/config` of a sidecar on the config stream: also the stream's state and the last NACK. */
export interface StreamConfigView extends AdminConfigView {
  readonly controlPlane: ControlPlaneView;
}

/** The running config as `/config` shows it. */
const configView = (proxy: Proxy, lastRejection: ConfigRejection | undefined): AdminConfigView => {
  const c = proxy.config;
  return {
    version: c.version,
    routesVersion: c.snapshot.routesVersion,
    endpointsVersion: c.snapshot.endpointsVersion,
    snapshot: c.snapshot,
    ...(lastRejection === undefined ? {} : { lastRejection }),
  };
};

const rejection = (err: unknown, version?: string): ConfigRejection => ({
  at: new Date().toISOString(),
  message: err instanceof Error ? err.message : String(err),
  ...(version === undefined ? {} : { version }),
});

/** The metrics of one sidecar. */
const newTelemetry = (bootstrap: ProxyBootstrap): { registry: MetricsRegistry; metrics: ProxyMetrics } => {
  const registry = new MetricsRegistry();
  const metrics = createProxyMetrics(registry, { service: bootstrap.service, namespace: bootstrap.namespace, labels: bootstrap.labels });
  return { registry, metrics };
};

/**
 * Starts a sidecar: from a snapshot file (`configFile`) or from the control plane's config
 * stream (`controlPlane`); see {@link startFileSidecar} and {@link startStreamSidecar}.
 */
export const startSidecar = (options: SidecarOptions): Promise<Sidecar> => {
  if ((options.configFile === undefined) === (options.controlPlane === undefined)) {
    return Promise.reject(new WeftError('WEFT_ERR_CONFIG_INVALID', 'a sidecar takes its config from a file or from the control plane: give exactly one'));
  }
  return options.controlPlane === undefined ? startFileSidecar(options, options.configFile ?? '') : startStreamSidecar(options, options.controlPlane);
};

/**
 * Starts the admin port, unless this is one worker of several. When it cannot listen,
 * `cleanup` closes what the sidecar opened before it (listeners, the config source), so
 * that the process ends with the error instead of lingering half-started.
 */
const openAdmin = async (
  options: SidecarOptions,
  registry: MetricsRegistry,
  state: AdminState,
  cleanup: () => Promise<void>,
): Promise<AdminServer | undefined> => {
  if (options.startAdmin === false) return undefined;
  const { adminHost, adminPort } = options.bootstrap;
  try {
    return await startAdminServer({ host: adminHost, port: adminPort, registry, logger: options.logger, state });
  } catch (err) {
    await cleanup();
    throw cannotListen('--admin-port', `${adminHost}:${adminPort}`, err);
  }
};

/**
 * A sidecar from a bootstrap and a snapshot file: loads and validates the file
 * (throwing, with file, line and field, when it is invalid), starts the data plane and the
 * admin port, then follows the file: each valid change is applied, each invalid one is
 * refused and reported while the last good config keeps serving.
 */
const startFileSidecar = async (options: SidecarOptions, configFile: string): Promise<Sidecar> => {
  const { bootstrap, logger } = options;
  const source = new FileSnapshotSource(configFile);
  const first = await source.load();
  const { registry, metrics } = newTelemetry(bootstrap);
  const proxy = await Proxy.start(bootstrap, first, logger.child({ component: 'proxy' }), proxyHooks(metrics));
  registerDestinationMetrics(registry, () => proxy.config.destinations);
  metrics.configApplied(first.routesVersion, first.endpointsVersion);
  let lastRejection: ConfigRejection | undefined;
  const reject = (err: WeftError, snapshot?: ProxySnapshot): void => {
    lastRejection = rejection(err, snapshot === undefined ? undefined : `${snapshot.routesVersion}/${snapshot.endpointsVersion}`);
    metrics.configRejected();
    logger.error({ code: err.code, file: configFile }, `config rejected, last good config keeps serving: ${err.message}`);
  };
  source.watch({
    onSnapshot: (snapshot) => {
      try {
        proxy.apply(snapshot);
        lastRejection = undefined;
        metrics.configApplied(snapshot.routesVersion, snapshot.endpointsVersion);
      } catch (err) {
        reject(err instanceof WeftError ? err : new WeftError('WEFT_ERR_CONFIG_INVALID', String(err)), snapshot);
      }
      options.onConfigChange?.();
    },
    onRejected: (err) => {
      reject(err);
      options.onConfigChange?.();
    },
  });
  const state: AdminState = {
    isLive: () => true,
    isReady: () => !proxy.draining,
    notReadyReason: () => (proxy.draining ? 'draining' : undefined),
    config: () => configView(proxy, lastRejection),
  };
  const admin = await openAdmin(options, registry, state, async () => {
    source.close();
    await proxy.close();
    metrics.stop();
  });
  return {
    proxy,
    admin,
    metrics,
    registry,
    state,
    bootstrap,
    controlPlane: undefined,
    reload: async () => {
      await source.reload();
    },
    stop: async () => {
      source.close();
      await proxy.drain(bootstrap.drainTimeoutMs);
      await admin?.close();
      metrics.stop();
    },
  };
};

/**
 * A sidecar on the control plane's config stream. The admin port starts at once (`/ready`
 * answers 503 until there is a config); the data plane starts with the first snapshot:
 * the cached one when there is a usable cache (so that a proxy restarted while the control
 * plane is down serves at once), else the first one from the stream. Resolves once the
 * data plane runs. Later snapshots are swapped in; one the proxy cannot load is NACKed and
 * the last good config keeps serving. Rejects when the data plane cannot start (a port in
 * use) or `options.signal` aborts first.
 */
const startStreamSidecar = async (options: SidecarOptions, cp: SidecarControlPlaneOptions): Promise<Sidecar> => {
  const { logger } = options;
  // Resolve the inbound port first: the hello names it, and the default workload name holds it.
  const bootstrap: ProxyBootstrap = { ...options.bootstrap, port: await resolveInboundPort(options.bootstrap.listenHost, options.bootstrap.port) };
  const address = advertisedAddress(bootstrap.listenHost);
  const workload = cp.workload ?? defaultWorkloadName(bootstrap.service, address, bootstrap.port);
  const { registry, metrics } = newTelemetry(bootstrap);
  let proxy: Proxy | undefined;
  registerDestinationMetrics(registry, () => proxy?.config.destinations ?? new Map());
  let lastRejection: ConfigRejection | undefined;
  let settle: { resolve: (p: Proxy) => void; reject: (err: unknown) => void } | undefined;
  const started = new Promise<Proxy>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const load = async (snapshot: ProxySnapshot, origin: 'cache' | 'stream'): Promise<void> => {
    const version = `${snapshot.routesVersion}/${snapshot.endpointsVersion}`;
    try {
      if (proxy !== undefined) proxy.apply(snapshot);
      else {
        // Check the snapshot alone first, so that an unusable one is a NACK and not a failed start.
        // Retired at once: its destinations' timers and probes stop.
        new ConfigState(snapshot, bootstrap, undefined, identity?.current).retire(undefined);
        try {
          proxy = await Proxy.start(bootstrap, snapshot, logger.child({ component: 'proxy' }), proxyHooks(metrics), identity?.current);
        } catch (err) {
          settle?.reject(err);
          throw err;
        }
        settle?.resolve(proxy);
      }
    } catch (err) {
      if (origin === 'stream') {
        lastRejection = rejection(err, version);
        metrics.configRejected();
        options.onConfigChange?.();
      }
      throw err;
    }
    lastRejection = undefined;
    const tls = snapshot.transport.tls;
    if (tls.mode === 'workload') identity?.trustBundleChanged(tls.trustBundle, tls.signerHash);
    metrics.configApplied(snapshot.routesVersion, snapshot.endpointsVersion);
    options.onConfigChange?.();
  };
  // Renewals are reported on the config stream, made below (after the identity it needs).
  const renewals: { source?: ControlPlaneSource } = {};
  const identityCache = cp.insecure === true || cp.cacheDir === undefined ? undefined : new IdentityCache(join(cp.cacheDir, `${workload}.identity.json`));
  const previousIdentity = await identityCache?.read();
  const identity =
    cp.insecure === true
      ? undefined
      : new WorkloadIdentity({
          address: cp.address,
          service: bootstrap.service,
          namespace: bootstrap.namespace,
          ...(cp.token === undefined ? {} : { token: cp.token }),
          ...(previousIdentity === undefined ? {} : { previous: previousIdentity }),
          logger: logger.child({ component: 'identity' }),
          onCertificate: (cert) => {
            metrics.certificateIssued(cert.notAfter);
            proxy?.setWorkloadCertificate(cert);
            const report = certificateReport(cert);
            if (report !== undefined) renewals.source?.certificateRenewed(report);
            identityCache?.write(cert).catch((err: unknown) => logger.warn({ err: (err as Error).message, file: identityCache.path }, 'caching the workload certificate failed'));
          },
        });
  const streamTls = identity === undefined ? cp.tuning?.tls : () => {
    const cert = identity.current;
    if (cert === undefined) throw new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', 'no workload certificate to connect to the control plane with', {});
    return controlPlaneTls(identity.trustBundle ?? cert.trustBundle, cert.trustDomain, cert);
  };
  const source = new ControlPlaneSource({
    address: cp.address,
    bootstrap,
    workload,
    advertiseAddress: address,
    ...(cp.cacheDir === undefined ? {} : { cacheFile: join(cp.cacheDir, `${workload}.json`) }),
    ...(identity === undefined ? {} : { certificate: () => certificateReport(identity.current) }),
    client: { ...cp.tuning, ...(streamTls === undefined ? {} : { tls: streamTls }) },
    logger,
    load,
  });
  renewals.source = source;
  const state: AdminState = {
    isLive: () => true,
    isReady: () => proxy !== undefined && !proxy.draining,
    notReadyReason: () =>
      proxy === undefined ? `waiting for the first snapshot from the control plane at ${cp.address}` : proxy.draining ? 'draining' : undefined,
    config: (): StreamConfigView | undefined => (proxy === undefined ? undefined : { ...configView(proxy, lastRejection), controlPlane: source.view }),
  };
  const admin = await openAdmin(options, registry, state, async () => {
    await source.close();
    metrics.stop();
  });
  const onAbort = (): void => settle?.reject(new WeftError('WEFT_ERR_STREAM_UNREACHABLE', 'stopped before the first snapshot arrived'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) onAbort();
  logger.info({ controlPlane: cp.address, workload, port: bootstrap.port }, 'waiting for the first snapshot');
  let running: Proxy;
  try {
    if (identity !== undefined) {
      const stopIdentity = (): void => identity.stop();
      options.signal?.addEventListener('abort', stopIdentity, { once: true });
      await Promise.race([identity.start(), started.then(() => undefined)]);
    }
    await source.start();
    running = await started;
  } catch (err) {
    identity?.stop();
    await source.close();
    await proxy?.close();
    await admin?.close();
    metrics.stop();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return {
    proxy: running,
    admin,
    metrics,
    registry,
    state,
    bootstrap,
    controlPlane: source,
    reload: () => Promise.resolve(),
    stop: async () => {
      identity?.stop();
      await source.close();
      await running.drain(bootstrap.drainTimeoutMs);
      await admin?.close();
      metrics.stop();
    },
  };
};
