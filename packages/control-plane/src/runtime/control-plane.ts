import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { workloadSpiffeId, type Workload } from '@weft/api';
import type { CertificateAuthority } from '../ca/index.js';
import { cannotListen, type Logger } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { createApiServer, requireAdminToken } from '../api/index.js';
import { registerCaRoutes } from '../api/ca-routes.js';
import { issuanceRoutes } from '../identity/issuance-routes.js';
import { certificateLifetimeMs, openSecurity, SERVER_CERT_RENEW_MS } from '../identity/security.js';
import { loadOrCreateAdminToken } from '../auth/index.js';
import { ResourceManager } from '../manager/index.js';
import { ManagerWorkloadWriter, Registry, type RegistryEntryView } from '../registry/index.js';
import { FileStore, MemoryStore, type Store } from '../store/index.js';
import { StreamServer, StreamError, type ProxySyncState, type StreamBackend, type StreamServerOptions } from '../stream/index.js';
import { parseHostPort } from './address.js';
import { Reconciler } from './reconciler.js';
import { ResourceCache } from './resource-cache.js';
import { StatusSync } from './status-sync.js';

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Data directory: the store (`<dataDir>/store`) and the admin token (`<dataDir>/admin-token`). */
  readonly dataDir: string;
  /** REST API address, `HOST:PORT` (default `127.0.0.1:7700`; port 0 picks one). */
  readonly apiAddr?: string;
  /** Config stream address, `HOST:PORT` (default `0.0.0.0:7701`). */
  readonly streamAddr?: string;
  /** `file` (default: embedded, persistent) or `memory` (tests; nothing survives a restart). */
  readonly store?: 'file' | 'memory';
  readonly logger: Logger;
  /** How long a dropped proxy's endpoint stays with callers (default 5 s). */
  readonly graceMs?: number;
  /** After a restart, how long endpoints of proxies that were connected stay while they reconnect (default max(15 s, graceMs)). */
  readonly restartGraceMs?: number;
  /** Stream limits and TLS (tests shorten the hello deadline and the message size). */
  readonly stream?: Pick<StreamServerOptions, 'helloTimeoutMs' | 'maxMessageBytes' | 'keepaliveMs' | 'tls'>;
  /** Changes within this window are compiled together (default 10 ms). */
  readonly compileDelayMs?: number;
  /**
   * The mesh's CA and mutual TLS. On (the default): the CA in `<dataDir>/ca/` (or the
   * plug-in CA files), the config stream over TLS, proxies joining with tokens and
   * talking mTLS. `false`: plaintext stream and transport, for tests of other parts only.
   */
  readonly security?: false | { readonly caCertFile?: string; readonly caKeyFile?: string; readonly trustDomain?: string };
}

/** A running control plane. */
export interface ControlPlane {
  readonly apiPort: number;
  readonly streamPort: number;
  readonly store: Store;
  readonly manager: ResourceManager;
  /** The admin token the REST API requires. */
  readonly adminToken: string;
  /** The CA, when security is on. */
  readonly ca: CertificateAuthority | undefined;
  /** Sync state of every connected proxy (sent, acknowledged and refused versions). */
  proxies(): ProxySyncState[];
  /** Every registered workload and whether callers get its endpoint. */
  workloads(): RegistryEntryView[];
  /** Resolves once pending changes are compiled and pushed and their writes are done (tests). */
  settled(): Promise<void>;
  /** Stops the API and the stream (proxies keep their config and reconnect), then closes the store. */
  close(): Promise<void>;
}

/**
 * Starts the control plane: opens the store, restores the registry from it, compiles,
 * serves the config stream and the REST API. The config path: store -> watch ->
 * {@link ResourceCache} -> {@link Compiler} (with the registry's records) -> per-proxy
 * snapshots pushed by the {@link StreamServer} when their version changed, and statuses
 * written back through the manager. Changes are compiled together within `compileDelayMs`.
 */
export const startControlPlane = async (options: ControlPlaneOptions): Promise<ControlPlane> => {
  const api = parseHostPort(options.apiAddr ?? '127.0.0.1:7700', '--api-addr');
  const streamAt = parseHostPort(options.streamAddr ?? '0.0.0.0:7701', '--stream-addr');
  const log = options.logger;
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const store: Store = options.store === 'memory' ? new MemoryStore({ logger: log.child({ component: 'store' }) }) : await FileStore.open({ dir: join(dataDir, 'store'), logger: log.child({ component: 'store' }) });
  const cleanup: (() => Promise<unknown>)[] = [() => store.close()];
  const undo = async (): Promise<void> => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const { token } = await loadOrCreateAdminToken(dataDir);
    const security = options.security === false ? undefined : await openSecurity(dataDir, store, options.security ?? {}, streamAt.host, log);
    // The compiler rewrites every status after each change, so the manager need not refresh dependents.
    const manager = new ResourceManager({ store, logger: log.child({ component: 'manager' }), refreshDependents: false });
    const statuses = new StatusSync(manager, log);
    const live: { stream?: StreamServer } = {};
    const reconciler: Reconciler = new Reconciler({
      resources: () => cache.resources(),
      ...(security === undefined ? {} : { trust: () => security.trust() }),
      workloads: () => registry.records(),
      push: () => live.stream?.refresh() ?? 0,
      statuses,
      current: (kind, ns, name) => cache.get(kind, ns, name),
      logger: log,
      ...(options.compileDelayMs === undefined ? {} : { delayMs: options.compileDelayMs }),
    });
    const registry = new Registry({
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.restartGraceMs === undefined ? {} : { restartGraceMs: options.restartGraceMs }),
      writer: new ManagerWorkloadWriter(manager, log),
      logger: log.child({ component: 'registry' }),
      onChange: () => reconciler.schedule(),
    });
    cleanup.push(async () => {
      registry.freeze();
      reconciler.stop();
    });
    const cache = new ResourceCache(store, log, () => reconciler.schedule());
    const serviceAccountOf = (namespace: string, service: string): string => {
      const svc = cache.get('Service', namespace, service);
      return svc?.kind === 'Service' ? (svc.spec.serviceAccount ?? service) : service;
    };
    await cache.start();
    cleanup.push(() => cache.close());
    registry.restore(cache.resources().filter((r): r is Workload => r.kind === 'Workload' && r.spec.inMesh));
    reconciler.compileNow();
    const backend: StreamBackend = {
      admit: (s) => {
        if (security !== undefined) {
          const expected = workloadSpiffeId(security.ca.trustDomain, s.hello.namespace, serviceAccountOf(s.hello.namespace, s.hello.service));
          if (s.peerIdentity !== expected) {
            throw new StreamError(
              'WEFT_ERR_IDENTITY_REFUSED',
              s.peerIdentity === undefined
                ? `the config of ${s.hello.namespace}/${s.hello.service} is served only to a proxy with its workload certificate; this connection presented none`
                : `the client certificate names ${s.peerIdentity}; the config of ${s.hello.namespace}/${s.hello.service} is served only to ${expected}`,
            );
          }
        }
        const r = registry.connect({ id: s.id, hello: s.hello, connectedAt: s.connectedAt });
        if (!r.ok) throw new StreamError('WEFT_ERR_STREAM_BAD_MESSAGE', r.reason);
      },
      release: (s) => registry.disconnect(s.id, s.hello.namespace, s.hello.workload),
      acked: (s, version) => registry.acked(s.id, s.hello.namespace, s.hello.workload, version),
      nacked: (s, version, error) => registry.nacked(s.id, s.hello.namespace, s.hello.workload, version, error),
      snapshotFor: (hello) => reconciler.snapshotFor(hello),
    };
    const stream = await StreamServer.start({
      ...options.stream,
      host: streamAt.host,
      port: streamAt.port,
      backend,
      logger: log,
      ...(security === undefined
        ? {}
        : {
            tls: await security.serverTls(),
            routes: issuanceRoutes({
              trustDomain: () => security.ca.trustDomain,
              trustBundle: () => security.ca.trustBundle,
              lifetimeMs: () => certificateLifetimeMs(cache),
              serviceAccount: serviceAccountOf,
              verifyToken: async (t, scope) => {
                await security.tokens.redeem(t, scope);
              },
              sign: (req) => security.ca.issueWorkloadCertificate(req),
              logger: log,
            }),
          }),
    }).catch((err: unknown) => {
      throw cannotListen('--stream-addr', options.streamAddr ?? '0.0.0.0:7701', err);
    });
    live.stream = stream;
    cleanup.push(() => stream.close());
    if (security !== undefined) {
      // A rotation step changes the bundle or the signer: new server TLS, new snapshots.
      const stop = security.ca.onChange(() => {
        void security.serverTls().then((tls) => stream.setTls(tls), (err: unknown) => log.error({ err }, 'renewing the config stream certificate failed'));
        reconciler.schedule();
      });
      const renew = setInterval(() => void security.serverTls().then((tls) => stream.setTls(tls)).catch((err: unknown) => log.error({ err }, 'renewing the config stream certificate failed')), SERVER_CERT_RENEW_MS);
      renew.unref();
      cleanup.push(async () => {
        stop();
        clearInterval(renew);
      });
    }
    const app: FastifyInstance = createApiServer({
      manager,
      adminToken: token,
      logger: log.child({ component: 'api' }),
      extraRoutes: (root) => {
        if (security !== undefined) registerCaRoutes(root, { ca: security.ca, tokens: security.tokens, adminToken: token, afterChange: () => reconciler.idle() });
        // Sync state for `weft check` and `weft proxy-config`.
        root.get('/api/v1/proxies', { onRequest: requireAdminToken(token) }, async () => ({ items: stream.proxies(), workloads: registry.entries() }));
        // The snapshot one connected proxy is being sent: what it runs once `inSync` (its
        // acknowledged version equals this one), for `weft proxy-config`.
        root.get<{ Params: { namespace: string; workload: string } }>(
          '/api/v1/proxies/:namespace/:workload/snapshot',
          { onRequest: requireAdminToken(token) },
          async (req, reply) => {
            const hello = stream.helloOf(req.params.namespace, req.params.workload);
            if (hello === undefined) {
              return reply.code(404).send({
                code: 'WEFT_ERR_API_NOT_FOUND',
                message: `no proxy ${req.params.namespace}/${req.params.workload} is connected`,
              });
            }
            const snapshot = reconciler.snapshotFor(hello);
            const state = stream.proxies().find((p) => p.namespace === hello.namespace && p.workload === hello.workload);
            return { version: `${snapshot.routesVersion}/${snapshot.endpointsVersion}`, ackedVersion: state?.ackedVersion ?? null, inSync: state?.inSync ?? false, snapshot };
          },
        );
      },
    });
    await app.listen({ host: api.host, port: api.port }).catch((err: unknown) => {
      throw cannotListen('--api-addr', options.apiAddr ?? '127.0.0.1:7700', err);
    });
    cleanup.push(() => app.close());
    const address = app.server.address();
    const apiPort = typeof address === 'object' && address !== null ? address.port : api.port;
    log.info({ api: apiPort, stream: stream.port, dataDir, store: options.store ?? 'file' }, 'control plane ready');
    let closing: Promise<void> | undefined;
    return {
      apiPort,
      streamPort: stream.port,
      store,
      manager,
      adminToken: token,
      ca: security?.ca,
      proxies: () => stream.proxies(),
      workloads: () => registry.entries(),
      settled: async () => {
        await reconciler.idle();
        await registry.flush();
        await statuses.flush();
      },
      close: () =>
        (closing ??= (async () => {
          // Proxies are fine when the control plane goes: do not mark them unhealthy on the way out.
          registry.freeze();
          reconciler.stop();
          await app.close().catch(() => undefined);
          await stream.close();
          await cache.close();
          await registry.flush();
          await statuses.flush();
          await store.close();
        })()),
    };
  } catch (err) {
    await undo();
    throw err;
  }
};
