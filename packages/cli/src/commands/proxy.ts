import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ProxyBootstrapSchema, UpstreamFlagSchema, type ProxyBootstrap } from '@weft/api/data-plane';
import { createLogger, WeftError } from '@weft/core';
import { FileSnapshotSource, settleHeap, startSidecar, type Sidecar, type SidecarOptions } from '@weft/proxy';
import { join } from 'node:path';
import cluster from 'node:cluster';
import { printReady, runPrimary, serveAsWorker, workerStateChanged } from './proxy-workers.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface ProxyFlags {
  service: string;
  namespace: string;
  port: string;
  appPort?: string;
  appHost: string;
  appProtocol: string;
  listenHost: string;
  upstream: string[];
  httpProxyPort?: string;
  adminPort: string;
  adminHost: string;
  config?: string;
  controlPlane?: string;
  tokenFile?: string;
  workload?: string;
  dataDir: string;
  cacheDir?: string;
  drainTimeout: string;
  label: string[];
  concurrency: string;
}

const toInt = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

/** Turns flags into a validated bootstrap; a bad flag names itself and the rule it broke. */
export const bootstrapFromFlags = (flags: ProxyFlags): ProxyBootstrap => {
  const upstreams = flags.upstream.map((u) => {
    const r = UpstreamFlagSchema.safeParse(u);
    if (!r.success) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--upstream ${u}: ${r.error.issues[0]?.message ?? 'invalid'}`, { field: '--upstream' });
    return r.data;
  });
  const labels: Record<string, string> = {};
  for (const l of flags.label) {
    const i = l.indexOf('=');
    if (i <= 0) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--label ${l}: must be KEY=VALUE`, { field: '--label' });
    labels[l.slice(0, i)] = l.slice(i + 1);
  }
  const r = ProxyBootstrapSchema.safeParse({
    service: flags.service,
    namespace: flags.namespace,
    port: toInt(flags.port),
    appPort: toInt(flags.appPort),
    appHost: flags.appHost,
    appProtocol: flags.appProtocol,
    listenHost: flags.listenHost,
    upstreams,
    httpProxyPort: toInt(flags.httpProxyPort),
    adminPort: toInt(flags.adminPort),
    adminHost: flags.adminHost,
    drainTimeoutMs: toInt(flags.drainTimeout),
    labels,
  });
  if (!r.success) {
    const msg = r.error.issues.map((i) => `--${i.path.map(String).join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; ');
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', msg, { field: 'flags' });
  }
  return r.data;
};

/**
 * Where the sidecar takes its snapshots: `--config FILE`, or `--control-plane HOST:PORT`
 * (with the snapshot cache in `--cache-dir`, default `<data-dir>/proxy-cache`).
 */
export const configSourceFromFlags = (flags: ProxyFlags): Pick<SidecarOptions, 'configFile' | 'controlPlane'> => {
  if (flags.config !== undefined && flags.controlPlane !== undefined) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'give --config FILE or --control-plane HOST:PORT, not both', { field: '--config' });
  }
  if (flags.config !== undefined) return { configFile: flags.config };
  if (flags.controlPlane === undefined) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', '--control-plane HOST:PORT (or --config FILE) is required', { field: '--control-plane' });
  }
  // `http://HOST:PORT` says plaintext h2c and no workload certificate: only a control plane
  // run without its CA (tests of the stream itself) speaks it. Plain `HOST:PORT` is TLS.
  const insecure = flags.controlPlane.startsWith('http://');
  const address = flags.controlPlane.replace(/^http:\/\//, '').replace(/\/$/, '');
  if (!/^(\[[^\]]+\]|[^:/[\]]+):\d{1,5}$/.test(address)) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--control-plane ${flags.controlPlane}: must be HOST:PORT, e.g. 127.0.0.1:7701`, { field: '--control-plane' });
  }
  return {
    controlPlane: {
      address,
      cacheDir: flags.cacheDir ?? join(flags.dataDir, 'proxy-cache'),
      ...(flags.workload === undefined ? {} : { workload: flags.workload }),
      ...joinTokenFromFlags(flags),
      ...(insecure ? { insecure } : {}),
    },
  };
};

/**
 * The join token: the file `--token-file` names (a token on the command line would be
 * visible in the process list), else `$WEFT_TOKEN`. Surrounding white space is ignored.
 */
const joinTokenFromFlags = (flags: ProxyFlags): { token?: string } => {
  if (flags.tokenFile !== undefined) {
    try {
      return { token: readFileSync(flags.tokenFile, 'utf8').trim() };
    } catch (err) {
      throw new WeftError('WEFT_ERR_CONFIG_READ', `--token-file ${flags.tokenFile}: ${(err as Error).message}`, { field: '--token-file', file: flags.tokenFile });
    }
  }
  const token = process.env['WEFT_TOKEN'];
  return token === undefined || token.trim() === '' ? {} : { token: token.trim() };
};

/** `weft proxy`: the sidecar of one service instance. */
export const registerProxyCommand = (program: Command): void => {
  program
    .command('proxy')
    .description('run the sidecar proxy of one service instance')
    .requiredOption('--service <name>', 'the service this instance belongs to')
    .option('--namespace <ns>', 'namespace of the service', 'default')
    .option('--port <port>', 'mesh-facing inbound port (0 picks one)', '0')
    .option('--app-port <port>', 'where the application listens on loopback')
    .option('--app-host <host>', 'where the application listens', '127.0.0.1')
    .option('--app-protocol <protocol>', 'http, http2, grpc or tcp', 'http')
    .option('--listen-host <host>', 'interface of the inbound port', '127.0.0.1')
    .option('--upstream <name:localport>', 'explicit outbound listener (repeatable)', collect, [])
    .option('--http-proxy-port <port>', 'outbound HTTP proxy listener for HTTP_PROXY clients')
    .option('--admin-port <port>', 'admin port: /ready /live /config /metrics', '0')
    .option('--admin-host <host>', 'interface of the admin port', '127.0.0.1')
    .option('--config <file>', 'proxy snapshot file (YAML or JSON); re-read on change and SIGHUP')
    .option('--control-plane <host:port>', 'control plane config stream (instead of --config)')
    .option('--token-file <file>', 'join token from `weft token create`: the first certificate, and the control plane CA it pins (default $WEFT_TOKEN)')
    .option('--workload <name>', 'workload name to register (default <service>-<address>-<port>)')
    .option('--data-dir <dir>', 'data directory (the snapshot cache goes to <dir>/proxy-cache)', process.env['WEFT_DATA_DIR'] ?? './.weft')
    .option('--cache-dir <dir>', 'where to cache the last snapshot from the control plane')
    .option('--drain-timeout <ms>', 'how long SIGTERM waits for in-flight requests', '10000')
    .option('--label <key=value>', 'workload label (repeatable), e.g. version=v2', collect, [])
    .option('--concurrency <n>', 'worker processes (one event loop is one core)', '1')
    .action(async (flags: ProxyFlags) => {
      const bootstrap = bootstrapFromFlags(flags);
      const source = configSourceFromFlags(flags);
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--concurrency ${flags.concurrency}: must be a whole number from 1 to 64`, {
          field: '--concurrency',
        });
      }
      if (source.controlPlane !== undefined && concurrency > 1) {
        throw new WeftError('WEFT_ERR_CONFIG_INVALID', '--concurrency above 1 works with --config only for now (workers would each register the same workload)', { field: '--concurrency' });
      }
      const isWorker = process.env['WEFT_PROXY_WORKER'] === '1' && cluster.isWorker;
      const logger = createLogger({ name: `proxy/${bootstrap.service}` });
      if (concurrency > 1 && cluster.isPrimary) {
        // Validate once here, so that a bad file is reported once and no worker starts.
        const first = await new FileSnapshotSource(source.configFile ?? '').load();
        await runPrimary(bootstrap, first, concurrency, logger);
        return;
      }
      // Signals count from the start: a sidecar still waiting for its first snapshot stops at once.
      const abort = new AbortController();
      const holder: { sidecar?: Sidecar } = {};
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'draining');
        const running = holder.sidecar;
        if (running === undefined) return abort.abort();
        void running.stop().then(() => {
          logger.flush();
          process.exit(0);
        });
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Started by `weft run` with an IPC channel: when that parent goes away, even killed
      // with SIGKILL, the channel closes, and the sidecar drains rather than outlive it.
      if (process.env['WEFT_PROXY_PARENT_CHANNEL'] === '1' && process.channel !== undefined) {
        process.channel.unref();
        process.once('disconnect', () => stop('parent exited'));
      }
      let running: Sidecar;
      try {
        running = await startSidecar({
          bootstrap,
          ...source,
          logger,
          signal: abort.signal,
          startAdmin: !isWorker,
          ...(isWorker ? { onConfigChange: () => holder.sidecar !== undefined && workerStateChanged(holder.sidecar) } : {}),
        });
      } catch (err) {
        if (!abort.signal.aborted) throw err;
        logger.flush();
        process.exit(0);
      }
      holder.sidecar = running;
      if (abort.signal.aborted) {
        await running.stop();
        logger.flush();
        process.exit(0);
      }
      settleHeap();
      if (isWorker) serveAsWorker(running);
      // One machine-readable line on stdout says where everything listens.
      else printReady(running.proxy.ports, running.admin?.port);
      process.on('SIGHUP', () => void running.reload());
    });
};
