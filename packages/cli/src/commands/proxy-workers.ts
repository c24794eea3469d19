import cluster, { type Worker } from 'node:cluster';
import type { ProxyBootstrap, ProxySnapshot } from '@weft/api/data-plane';
import type { Logger } from '@weft/core';
import { mergeExpositions, MetricsRegistry, startAdminServer, type AdminConfigView, type Sidecar } from '@weft/proxy';

/** Messages between the primary of a multi-core sidecar and its workers. */
type ToWorker = { type: 'metrics'; id: number };
type FromWorker =
  | { type: 'ready'; ports: unknown }
  | { type: 'state'; config: AdminConfigView | undefined; ready: boolean }
  | { type: 'metrics'; id: number; text: string };

/** The ports line a sidecar prints once it is ready. */
export const printReady = (ports: { inbound?: number | undefined; httpProxy?: number | undefined }, admin: number | undefined): void => {
  // Absent listeners are null rather than missing, so that readers need no special case.
  const line = { ...ports, inbound: ports.inbound ?? null, httpProxy: ports.httpProxy ?? null, admin: admin ?? null };
  process.stdout.write(`weft proxy ready ${JSON.stringify(line)}\n`);
};

/**
 * The worker side: report readiness and config changes, answer metrics requests. Each
 * worker runs a whole sidecar on its own event loop; the listening sockets are shared
 * through the cluster module, which spreads connections over the workers.
 */
export const serveAsWorker = (sidecar: Sidecar): void => {
  const send = (m: FromWorker): void => {
    process.send?.(m);
  };
  send({ type: 'ready', ports: sidecar.proxy.ports });
  send({ type: 'state', config: sidecar.state.config(), ready: sidecar.state.isReady() });
  process.on('message', (m: ToWorker) => {
    if (m.type === 'metrics') send({ type: 'metrics', id: m.id, text: sidecar.registry.render() });
  });
};

/** Tells the worker to push its state again (after a config change). */
export const workerStateChanged = (sidecar: Sidecar): void => {
  process.send?.({ type: 'state', config: sidecar.state.config(), ready: sidecar.state.isReady() } satisfies FromWorker);
};

/**
 * The primary of `weft proxy --concurrency N`: forks N workers (each a full sidecar on one
 * core), serves the one admin port for all of them (metrics merged as if one process had
 * counted), forwards SIGHUP, and on SIGTERM/SIGINT lets every worker drain before exiting 0.
 * A worker that dies is replaced.
 */
export const runPrimary = async (bootstrap: ProxyBootstrap, first: ProxySnapshot, concurrency: number, logger: Logger): Promise<void> => {
  void first; // validated by the caller before forking, so that a bad file fails once, here
  const states = new Map<number, { config: AdminConfigView | undefined; ready: boolean }>();
  const pendingMetrics = new Map<number, { texts: string[]; want: number; done: (t: string) => void }>();
  let nextId = 0;
  let stopping = false;
  let readyPrinted = false;
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  let ports: { inbound?: number; httpProxy?: number } = {};
  const readyWorkers = new Set<number>();

  const fork = (): Worker => {
    const w = cluster.fork({ WEFT_PROXY_WORKER: '1' });
    w.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        readyWorkers.add(w.id);
        ports = m.ports as { inbound?: number; httpProxy?: number };
        if (!readyPrinted && readyWorkers.size === concurrency) void onAllReady();
      } else if (m.type === 'state') states.set(w.id, { config: m.config, ready: m.ready });
      else if (m.type === 'metrics') {
        const p = pendingMetrics.get(m.id);
        if (p === undefined) return;
        p.texts.push(m.text);
        if (p.texts.length === p.want) {
          pendingMetrics.delete(m.id);
          p.done(mergeExpositions(p.texts));
        }
      }
    });
    return w;
  };

  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);

  const onAllReady = async (): Promise<void> => {
    readyPrinted = true;
    admin = await startAdminServer({
      host: bootstrap.adminHost,
      port: bootstrap.adminPort,
      registry: new MetricsRegistry(),
      logger,
      renderMetrics: () =>
        new Promise((resolve, reject) => {
          const live = workers();
          const id = nextId++;
          const timer = setTimeout(() => {
            pendingMetrics.delete(id);
            reject(new Error('a worker did not answer within 2 s'));
          }, 2000);
          pendingMetrics.set(id, {
            texts: [],
            want: live.length,
            done: (t) => {
              clearTimeout(timer);
              resolve(t);
            },
          });
          for (const w of live) w.send({ type: 'metrics', id } satisfies ToWorker);
        }),
      state: {
        isLive: () => true,
        isReady: () => !stopping && states.size === concurrency && [...states.values()].every((s) => s.ready),
        notReadyReason: () => (stopping ? 'draining' : `${[...states.values()].filter((s) => s.ready).length}/${concurrency} workers ready`),
        config: () => states.values().next().value?.config,
      },
    });
    printReady(ports, admin.port);
  };

  cluster.on('exit', (w, code, signal) => {
    states.delete(w.id);
    readyWorkers.delete(w.id);
    if (stopping) {
      if (workers().length === 0) {
        void admin?.close().then(() => process.exit(0));
      }
      return;
    }
    logger.error({ worker: w.id, code, signal }, 'proxy worker died; starting another');
    fork();
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining all workers');
    for (const w of workers()) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    for (const w of workers()) w.process.kill('SIGHUP');
  });
  for (let i = 0; i < concurrency; i++) fork();
};
