import { performance } from 'node:perf_hooks';
import type { ProxyBootstrap, ProxySnapshot } from '@weft/api/data-plane';
import { WeftError, type Logger } from '@weft/core';
import { startAdminServer, type AdminServer, type AdminState, type ConfigRejection } from '../admin/admin-server.js';
import { FileSnapshotSource } from '../config/file-snapshot-source.js';
import type { FinishedRequest } from '../telemetry/finished-request.js';
import type { LogicalService } from '../routing/routing-table.js';
import { createProxyMetrics, type HttpRequestLabels, type ProxyMetrics } from '../telemetry/proxy-metrics.js';
import { MetricsRegistry } from '../telemetry/registry.js';
import { Proxy } from './proxy.js';

/** A running sidecar: the data plane, its admin port, its config source and telemetry. */
export interface Sidecar {
  readonly proxy: Proxy;
  /** The admin server, unless the sidecar is one worker of several (see `startAdmin`). */
  readonly admin: AdminServer | undefined;
  readonly metrics: ProxyMetrics;
  readonly registry: MetricsRegistry;
  /** What the admin port reports: readiness and the config in effect. */
  readonly state: AdminState;
  /** Re-reads the config source now (SIGHUP). */
  reload(): Promise<void>;
  /** Drains traffic, then closes the admin port and the source. */
  stop(): Promise<void>;
}

export interface SidecarOptions {
  readonly bootstrap: ProxyBootstrap;
  /** `weft proxy --config FILE`: the snapshot file. */
  readonly configFile: string;
  readonly logger: Logger;
  /** Start the admin port (default). A worker of a multi-core sidecar leaves it to its primary. */
  readonly startAdmin?: boolean;
  /** Called after each config change was applied or refused. */
  readonly onConfigChange?: () => void;
}

/**
 * Telemetry of finished HTTP/1.1 exchanges. Label sets are made once per target (per
 * logical service of a config) and cached, so recording costs a few map lookups.
 */
const exchangeRecorder = (metrics: ProxyMetrics): ((ex: FinishedRequest, direction: 'inbound' | 'outbound') => void) => {
  const byProtocol = (protocol: 'http' | 'grpc') => {
    const outbound = new WeakMap<object, HttpRequestLabels>();
    const unknownTarget = metrics.outboundLabels({ service: 'unknown', serviceName: 'unknown', serviceNamespace: 'unknown', protocol });
    const inbound = metrics.inboundLabels({ protocol, securityPolicy: 'unknown' });
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
    const labels = direction === 'inbound' ? p.inbound : p.outboundOf(ex.target);
    metrics.recordHttp(labels, ex.status, ex.flag, ex.grpcStatus, performance.now() - ex.startedAt, ex.requestBytes, ex.responseBytes);
  };
};

/**
 * Starts a sidecar from a bootstrap and a snapshot file: loads and validates the file
 * (throwing, with file, line and field, when it is invalid), starts the data plane and the
 * admin port, then follows the file: each valid change is applied, each invalid one is
 * refused and reported while the last good config keeps serving.
 */
export const startSidecar = async (options: SidecarOptions): Promise<Sidecar> => {
  const { bootstrap, logger } = options;
  const source = new FileSnapshotSource(options.configFile);
  const first = await source.load();
  const registry = new MetricsRegistry();
  const metrics = createProxyMetrics(registry, {
    service: bootstrap.service,
    namespace: bootstrap.namespace,
    labels: bootstrap.labels,
  });
  const proxy = await Proxy.start(bootstrap, first, logger.child({ component: 'proxy' }), {
    onExchangeEnd: exchangeRecorder(metrics),
  });
  metrics.configApplied(first.routesVersion, first.endpointsVersion);
  let lastRejection: ConfigRejection | undefined;
  const reject = (err: WeftError, snapshot?: ProxySnapshot): void => {
    lastRejection = {
      at: new Date().toISOString(),
      message: err.message,
      ...(snapshot === undefined ? {} : { version: `${snapshot.routesVersion}/${snapshot.endpointsVersion}` }),
    };
    metrics.configRejected();
    logger.error({ code: err.code, file: options.configFile }, `config rejected, last good config keeps serving: ${err.message}`);
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
    config: () => {
      const c = proxy.config;
      return {
        version: c.version,
        routesVersion: c.snapshot.routesVersion,
        endpointsVersion: c.snapshot.endpointsVersion,
        snapshot: c.snapshot,
        ...(lastRejection === undefined ? {} : { lastRejection }),
      };
    },
  };
  const admin =
    options.startAdmin === false
      ? undefined
      : await startAdminServer({ host: bootstrap.adminHost, port: bootstrap.adminPort, registry, logger, state });
  return {
    proxy,
    admin,
    metrics,
    registry,
    state,
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
