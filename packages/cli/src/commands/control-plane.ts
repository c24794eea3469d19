import type { Command } from 'commander';
import { createLogger, WeftError } from '@weft/core';

interface ControlPlaneFlags {
  dataDir: string;
  apiAddr: string;
  streamAddr: string;
  store: string;
  endpointGrace: string;
  trustDomain: string;
  caCert?: string;
  caKey?: string;
}

/** `--store`: `file`, `memory`, or an etcd URL list (refused clearly until the etcd backend exists). */
const parseStore = (value: string): 'file' | 'memory' => {
  if (value === 'file' || value === 'memory') return value;
  if (value.startsWith('etcd://')) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--store ${value}: the etcd backend is not available yet; use --store file (the default, embedded and persistent) or --store memory`, {
      field: '--store',
    });
  }
  throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--store ${value}: must be file, memory or etcd://HOST:PORT[,HOST:PORT...]`, { field: '--store' });
};

const parseMs = (value: string, flag: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3_600_000) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${flag} ${value}: must be whole milliseconds from 0 to 3600000`, { field: flag });
  return n;
};

/**
 * `weft control-plane`: the REST API and the proxies' config stream over the store in the
 * data dir. Prints one line, `weft control-plane ready {"api":PORT,"stream":PORT}`, once
 * both listen; SIGTERM or SIGINT closes it gracefully (exit 0): proxies keep their config
 * and reconnect when it is back.
 */
export const registerControlPlaneCommand = (program: Command): void => {
  program
    .command('control-plane')
    .description('run the control plane: REST API, proxy config stream, registry')
    .option('--data-dir <dir>', 'data directory: store and admin token', process.env['WEFT_DATA_DIR'] ?? './.weft')
    .option('--api-addr <host:port>', 'REST API address (port 0 picks one)', process.env['WEFT_CP_API_ADDR'] ?? '127.0.0.1:7700')
    .option('--stream-addr <host:port>', 'proxy config stream address (port 0 picks one)', process.env['WEFT_CP_STREAM_ADDR'] ?? '0.0.0.0:7701')
    .option('--store <backend>', 'file (embedded, persistent), memory, or etcd://HOST:PORT,... (not available yet)', 'file')
    .option('--endpoint-grace <ms>', 'how long a disconnected proxy keeps its endpoint, for it to reconnect', '5000')
    .option('--trust-domain <domain>', 'SPIFFE trust domain of workload identities (the Mesh resource must say the same)', 'cluster.local')
    .option('--ca-cert <file>', "plug-in CA: your intermediate's certificate followed by its chain up to your root (PEM)")
    .option('--ca-key <file>', "plug-in CA: the intermediate's private key (PEM)")
    .action(async (flags: ControlPlaneFlags) => {
      const store = parseStore(flags.store);
      const graceMs = parseMs(flags.endpointGrace, '--endpoint-grace');
      const logger = createLogger({ name: 'control-plane' });
      // Loaded here, so that other commands (a sidecar above all) never load the control plane.
      const { startControlPlane } = await import('@weft/control-plane');
      const security = {
        trustDomain: flags.trustDomain,
        ...(flags.caCert === undefined ? {} : { caCertFile: flags.caCert }),
        ...(flags.caKey === undefined ? {} : { caKeyFile: flags.caKey }),
      };
      const cp = await startControlPlane({ dataDir: flags.dataDir, apiAddr: flags.apiAddr, streamAddr: flags.streamAddr, store, logger, graceMs, security });
      process.stdout.write(`weft control-plane ready ${JSON.stringify({ api: cp.apiPort, stream: cp.streamPort, caHash: cp.ca?.pinnedCaHash })}\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        cp.close().then(
          () => {
            logger.flush();
            process.exit(0);
          },
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
};
