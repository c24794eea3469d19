import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from '@weft/proxy';

/** The ports a `weft proxy` prints on its ready line (`weft proxy ready {json}`). */
export interface SidecarPorts {
  readonly inbound: number | null;
  readonly httpProxy: number | null;
  readonly admin: number | null;
  readonly upstreams: Readonly<Record<string, number>>;
}

/** A started sidecar child process. */
export interface SidecarProcess {
  readonly child: ChildProcess;
  /** Resolves with the ports once the ready line came and `/ready` answers 200; rejects if it exits first or takes too long. */
  readonly ready: Promise<SidecarPorts>;
  /** Settles with the exit code (null on a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  /** Sends SIGTERM (it drains), then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs: number): Promise<void>;
}

/**
 * Node flags of this process the sidecar inherits (the tsx loader and source condition
 * when run from sources); flags about this process alone (eval, test runner, debugger,
 * watch mode) are left out.
 */
export const inheritedNodeFlags = (execArgv: readonly string[] = process.execArgv): string[] => {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i] as string;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++;
      continue;
    }
    if (/^(--eval=|--print=|--test|--inspect|--debug|--watch|--input-type)/.test(a)) continue;
    flags.push(a);
  }
  return flags;
};

const READY_LINE = /^weft proxy ready (\{.*\})$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the admin `/ready` until it answers 200 or `deadline` (epoch ms) passes. */
const waitForAdminReady = async (port: number, deadline: number, gone: () => boolean): Promise<void> => {
  let last = 'no answer';
  while (Date.now() < deadline && !gone()) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(2000) });
      last = (await res.text()).trim();
      if (res.ok) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  if (gone()) throw new Error('the sidecar exited before it was ready');
  throw new Error(`the sidecar's /ready did not answer 200 in time (last: ${last})`);
};

/**
 * Spawns `weft proxy ...proxyArgs` from this CLI's entry (`entry`, default `process.argv[1]`)
 * with {@link SIDECAR_NODE_FLAGS} and {@link SIDECAR_ENV}, in its own process group so that a terminal's Ctrl-C
 * reaches the app only (`weft run` decides when the sidecar drains). Its stderr (logs) is
 * inherited; its stdout after the ready line is copied to our stderr, so that the app's
 * stdout stays its own.
 */
export const startSidecarProcess = (proxyArgs: readonly string[], readyTimeoutMs: number, entry = process.argv[1] ?? ''): SidecarProcess => {
  const child = spawn(process.execPath, [...inheritedNodeFlags(), ...SIDECAR_NODE_FLAGS, entry, 'proxy', ...proxyArgs], {
    // The IPC channel carries no messages: the sidecar drains when it closes, so that it
    // never outlives a `weft run` that was killed outright (see commands/proxy.ts).
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    detached: true,
    env: { ...SIDECAR_ENV, ...process.env, WEFT_PROXY_PARENT_CHANNEL: '1' },
  });
  child.channel?.unref();
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    });
    child.once('error', (err) => {
      process.stderr.write(`weft run: cannot start the sidecar: ${err.message}\n`);
      exitCode = null;
      resolve(null);
    });
  });
  const gone = (): boolean => exitCode !== undefined;
  const deadline = Date.now() + readyTimeoutMs;
  const readyLine = new Promise<SidecarPorts>((resolve, reject) => {
    let seen = false;
    const rl = createInterface({ input: child.stdout ?? process.stdin });
    rl.on('line', (line) => {
      const m = seen ? null : READY_LINE.exec(line);
      if (m === null) {
        process.stderr.write(`${line}\n`);
        return;
      }
      seen = true;
      const raw = JSON.parse(m[1] as string) as Partial<SidecarPorts>;
      resolve({ inbound: raw.inbound ?? null, httpProxy: raw.httpProxy ?? null, admin: raw.admin ?? null, upstreams: raw.upstreams ?? {} });
    });
    void exited.then((code) => reject(new Error(`the sidecar exited (code ${String(code)}) before it was ready`)));
    const timer = setTimeout(() => reject(new Error(`the sidecar printed no ready line within ${readyTimeoutMs / 1000}s`)), readyTimeoutMs);
    timer.unref();
  });
  const ready = readyLine.then(async (ports) => {
    if (ports.admin !== null) await waitForAdminReady(ports.admin, deadline, gone);
    return ports;
  });
  ready.catch(() => undefined);
  const stop = async (graceMs: number): Promise<void> => {
    if (gone()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, ready, exited, stop };
};
