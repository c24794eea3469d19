import type { Command } from 'commander';
import { WeftError } from '@weft/core';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The `weft proxy` flags `weft run` accepts and passes on: [flag, value name, help, repeatable]. */
const PROXY_FLAGS: readonly (readonly [string, string, string, boolean])[] = [
  ['service', 'name', 'the service this instance belongs to', false],
  ['namespace', 'ns', 'namespace of the service (default "default")', false],
  ['port', 'port', 'mesh-facing inbound port (default 0: picks one)', false],
  ['app-port', 'port', 'where the application listens on loopback', false],
  ['app-host', 'host', 'where the application listens (default 127.0.0.1)', false],
  ['app-protocol', 'protocol', 'http, http2, grpc or tcp (default http)', false],
  ['listen-host', 'host', 'interface of the inbound port', false],
  ['upstream', 'name:localport', 'explicit outbound listener (repeatable); the app gets WEFT_UPSTREAM_<NAME>=127.0.0.1:<port>', true],
  ['admin-port', 'port', 'admin port of the sidecar (default 0)', false],
  ['admin-host', 'host', 'interface of the admin port', false],
  ['config', 'file', 'proxy snapshot file (instead of --control-plane)', false],
  ['control-plane', 'host:port', 'control plane config stream', false],
  ['token-file', 'file', 'file holding the join token (default $WEFT_TOKEN)', false],
  ['workload', 'name', 'workload name to register', false],
  ['data-dir', 'dir', 'data directory of the sidecar', false],
  ['cache-dir', 'dir', 'where the sidecar caches its last snapshot', false],
  ['drain-timeout', 'ms', 'how long the sidecar drains on exit (default 10000)', false],
  ['label', 'key=value', 'workload label (repeatable)', true],
];

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The `weft proxy` arguments for the flags given (those not given keep the proxy's defaults). */
export const proxyArgsOf = (opts: Readonly<Record<string, unknown>>): string[] => {
  const args: string[] = [];
  for (const [flag] of PROXY_FLAGS) {
    const v = opts[camel(flag)];
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) args.push(`--${flag}`, String(one));
  }
  return args;
};

/** `weft run [proxy flags] -- CMD ARGS...`: an application and its sidecar together. */
export const registerRunCommand = (program: Command): void => {
  const cmd = program
    .command('run')
    .description('run an application with its sidecar: holds it until the proxy is ready, sets HTTP_PROXY, forwards signals, drains on exit')
    .argument('<command...>', 'the application and its arguments (after --)')
    .option('--ready-timeout <ms>', 'how long to wait for the sidecar to be ready', '30000');
  for (const [flag, value, help, repeatable] of PROXY_FLAGS) {
    if (repeatable) cmd.option(`--${flag} <${value}>`, help, collect, []);
    else if (flag === 'service') cmd.requiredOption(`--${flag} <${value}>`, help);
    else cmd.option(`--${flag} <${value}>`, help);
  }
  cmd.action(async (command: string[], opts: Record<string, unknown>) => {
    const readyTimeoutMs = Number(opts['readyTimeout']);
    if (!Number.isFinite(readyTimeoutMs) || readyTimeoutMs <= 0) {
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--ready-timeout ${String(opts['readyTimeout'])}: must be a positive number of ms`, { field: '--ready-timeout' });
    }
    if (opts['config'] === undefined && opts['controlPlane'] === undefined) opts['controlPlane'] = '127.0.0.1:7701';
    const drain = Number(opts['drainTimeout'] ?? 10_000);
    const { runWithSidecar } = await import('../run/supervise.js');
    const code = await runWithSidecar({
      proxyArgs: proxyArgsOf(opts),
      command,
      readyTimeoutMs,
      drainMs: (Number.isFinite(drain) ? drain : 10_000) + 5000,
    });
    process.exit(code);
  });
};
