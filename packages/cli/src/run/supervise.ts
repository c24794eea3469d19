import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { startSidecarProcess, type SidecarPorts } from './sidecar-process.js';

/** Options of {@link runWithSidecar}. */
export interface RunOptions {
  /** Arguments of `weft proxy` (an HTTP proxy listener is added). */
  readonly proxyArgs: readonly string[];
  /** The application and its arguments. */
  readonly command: readonly string[];
  /** How long to wait for the sidecar to be ready. */
  readonly readyTimeoutMs: number;
  /** How long the sidecar may drain before it is killed. */
  readonly drainMs: number;
}

/** Signals forwarded to the application. */
const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
/** How long an application told to stop by `weft run` itself (the sidecar died) gets before SIGKILL. */
const APP_GRACE_MS = 10_000;

const upstreamVar = (name: string): string => `WEFT_UPSTREAM_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/**
 * The application's environment: ours, plus `HTTP_PROXY`/`http_proxy` at the sidecar's
 * HTTP proxy listener, `NO_PROXY`/`no_proxy` extended with loopback (kept if already set),
 * and `WEFT_UPSTREAM_<NAME>=127.0.0.1:<port>` per explicit upstream listener.
 */
export const appEnv = (ports: SidecarPorts, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...base };
  if (ports.httpProxy !== null) {
    env['HTTP_PROXY'] = `http://127.0.0.1:${ports.httpProxy}`;
    env['http_proxy'] = env['HTTP_PROXY'];
  }
  const noProxy = new Set(
    `${base['NO_PROXY'] ?? ''},${base['no_proxy'] ?? ''},localhost,127.0.0.1`
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  );
  env['NO_PROXY'] = [...noProxy].join(',');
  env['no_proxy'] = env['NO_PROXY'];
  for (const [name, port] of Object.entries(ports.upstreams)) env[upstreamVar(name)] = `127.0.0.1:${port}`;
  return env;
};

const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null): number =>
  code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0));

/**
 * `weft run`: starts the sidecar, holds the application until it is ready, then runs the
 * application with inherited stdio. Signals go to the application; when it exits the
 * sidecar drains and the result is the application's exit code. When the sidecar dies
 * first the application gets SIGTERM and the result is 1. Nothing is left running.
 */
export const runWithSidecar = async (opts: RunOptions): Promise<number> => {
  const sidecar = startSidecarProcess(['--http-proxy-port', '0', ...opts.proxyArgs], opts.readyTimeoutMs);
  let received: NodeJS.Signals | undefined;
  let forward: (signal: NodeJS.Signals) => void = (signal) => {
    // Before the app runs, a signal stops the sidecar and weft run.
    received ??= signal;
    void sidecar.stop(opts.drainMs);
  };
  const handlers = FORWARDED.map((s) => [s, () => forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    let ports: SidecarPorts;
    try {
      ports = await sidecar.ready;
    } catch (err) {
      await sidecar.stop(opts.drainMs);
      if (received !== undefined) return exitCodeOf(null, received);
      process.stderr.write(`weft run: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    if (received !== undefined) {
      await sidecar.stop(opts.drainMs);
      return exitCodeOf(null, received);
    }
    const [file, ...args] = opts.command;
    const app = spawn(file ?? '', args, { stdio: 'inherit', env: appEnv(ports) });
    const appExited = new Promise<number>((resolve) => {
      app.once('exit', (code, signal) => resolve(exitCodeOf(code, signal)));
      app.once('error', (err) => {
        process.stderr.write(`weft run: cannot start ${file ?? ''}: ${err.message}\n`);
        resolve(127);
      });
    });
    forward = (signal) => {
      if (app.exitCode === null && app.signalCode === null) app.kill(signal);
    };
    const first = await Promise.race([appExited.then((code) => ({ app: code })), sidecar.exited.then((code) => ({ sidecar: code }))]);
    if ('app' in first) {
      await sidecar.stop(opts.drainMs);
      return first.app;
    }
    process.stderr.write(`weft run: the sidecar exited (code ${String(first.sidecar)}) while ${file ?? ''} was running; stopping it\n`);
    app.kill('SIGTERM');
    const timer = setTimeout(() => app.kill('SIGKILL'), APP_GRACE_MS);
    await appExited;
    clearTimeout(timer);
    return 1;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
};
