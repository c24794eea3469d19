import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

/**
 * The demo's process supervisor. Every child runs in its own process group (so that a
 * Ctrl-C in the terminal reaches the demo alone, and the demo decides the order: sidecars
 * drain first, then apps stop), its output goes to a log file and a short in-memory tail,
 * and any exit the demo did not ask for is reported at once.
 *
 * Children must never outlive the demo, whatever ends it. A clean stop waits for every
 * child; the process `exit` hook SIGKILLs any left; and a small reaper process, told every
 * child's pid through a pipe, kills them all if that pipe closes while they live, which is
 * what happens when the demo itself is killed with SIGKILL or crashes.
 */

export type ChildRole = 'sidecar' | 'app' | 'control-plane';

export interface ChildSpec {
  /** Unique, e.g. `reviews-v1 sidecar`. */
  readonly name: string;
  readonly role: ChildRole;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  readonly error?: string;
}

const TAIL_LINES = 200;

/** `exit code 1`, `killed by SIGKILL`, or why it never started. */
export const describeExit = (e: ChildExit): string =>
  e.error !== undefined ? e.error : e.signal !== null ? `killed by ${e.signal}` : `exit code ${String(e.code)}`;

/** One supervised process. */
export class ManagedChild {
  readonly spec: ChildSpec;
  readonly proc: ChildProcess;
  readonly exited: Promise<ChildExit>;
  #exit: ChildExit | undefined;
  readonly #lines: string[] = [];
  readonly #listeners = new Set<(line: string) => void>();
  readonly #exitListeners = new Set<(e: ChildExit) => void>();
  readonly #log: WriteStream;

  constructor(spec: ChildSpec) {
    this.spec = spec;
    this.#log = createWriteStream(spec.logFile, { flags: 'a' });
    this.#log.on('error', () => undefined); // a log that cannot be written must not stop the demo
    this.#log.write(`--- ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')}\n`);
    this.proc = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let resolveExit!: (e: ChildExit) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    const done = (e: ChildExit): void => {
      if (this.#exit !== undefined) return;
      this.#exit = e;
      this.#log.end(`--- ${new Date().toISOString()} ${describeExit(e)}\n`);
      for (const l of this.#exitListeners) l(e);
      resolveExit(e);
    };
    this.proc.once('exit', (code, signal) => done({ code, signal }));
    this.proc.once('error', (err: NodeJS.ErrnoException) =>
      done({
        code: null,
        signal: null,
        error: err.code === 'ENOENT' ? `cannot start it: ${spec.command} not found on PATH` : `cannot start it: ${err.message}`,
      }),
    );
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      if (stream === null) continue;
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.#log.write(chunk);
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const p of parts) this.#push(p);
      });
      stream.on('end', () => {
        if (partial !== '') this.#push(partial);
        partial = '';
      });
    }
  }

  #push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > TAIL_LINES) this.#lines.shift();
    for (const l of this.#listeners) l(line);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  /** The last `n` lines of output. */
  tail(n = 12): string[] {
    return this.#lines.slice(-n);
  }

  onExit(listener: (e: ChildExit) => void): void {
    if (this.#exit !== undefined) listener(this.#exit);
    else this.#exitListeners.add(listener);
  }

  /** The first line (seen or to come) matching `re`; rejects when the child exits first or time runs out. */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      for (const l of this.#lines) {
        const m = re.exec(l);
        if (m) {
          resolve(m);
          return;
        }
      }
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        this.#listeners.delete(onLine);
        this.#exitListeners.delete(onExit);
        f();
      };
      const onLine = (line: string): void => {
        const m = re.exec(line);
        if (m) finish(() => resolve(m));
      };
      const onExit = (e: ChildExit): void => finish(() => reject(new Error(`${this.name} ended before it was ready (${describeExit(e)})`)));
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.name} was not ready within ${timeoutMs / 1000} s`))), timeoutMs);
      this.#listeners.add(onLine);
      if (this.#exit !== undefined) onExit(this.#exit);
      else this.#exitListeners.add(onExit);
    });
  }

  /** Sends `signal` to the child's process group (it leads one); false when it is gone. */
  signal(signal: NodeJS.Signals): boolean {
    const pid = this.proc.pid;
    if (pid === undefined || this.#exit !== undefined) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      try {
        return this.proc.kill(signal);
      } catch {
        return false;
      }
    }
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ChildExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.signal(signal);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first === 'late') this.signal('SIGKILL');
    return this.exited;
  }
}

/**
 * The reaper, run as `node -e`: reads `+pid` / `-pid` lines; when its stdin ends (the demo
 * is gone, or closed it on a clean exit), it SIGTERMs the process groups of the pids still
 * listed, SIGKILLs what is left after 4 s, and exits. Signals from the terminal do not stop
 * it: only the end of its pipe does.
 */
const REAPER_SOURCE = `
const pids = new Set();
let buf = '';
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
const send = (pid, sig) => { try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch {} } };
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
let ended = false;
const reap = () => {
  if (ended) return;
  ended = true;
  if (pids.size === 0) process.exit(0);
  for (const pid of pids) send(pid, 'SIGTERM');
  const deadline = Date.now() + 4000;
  setInterval(() => {
    const left = [...pids].filter(alive);
    if (left.length === 0 || Date.now() > deadline) {
      for (const pid of left) send(pid, 'SIGKILL');
      process.exit(0);
    }
  }, 100);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line[0] === '+') pids.add(pid); else pids.delete(pid);
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

export interface SupervisorOptions {
  /** Called once per child that exits while the supervisor is not stopping. */
  readonly onUnexpectedExit: (child: ManagedChild, exit: ChildExit) => void;
}

export class Supervisor {
  readonly #children: ManagedChild[] = [];
  readonly #opts: SupervisorOptions;
  #reaper: ChildProcess | undefined;
  #stopping = false;

  constructor(opts: SupervisorOptions) {
    this.#opts = opts;
    process.once('exit', () => this.killAllNow());
  }

  get children(): readonly ManagedChild[] {
    return this.#children;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** The reaper's pid, once started. */
  get reaperPid(): number | undefined {
    return this.#reaper?.pid;
  }

  /** Starts the reaper; call before spawning anything. */
  startReaper(): void {
    if (this.#reaper !== undefined) return;
    this.#reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.#reaper.stdin?.on('error', () => undefined);
    this.#reaper.on('error', () => undefined);
  }

  #tellReaper(line: string): void {
    const stdin = this.#reaper?.stdin;
    if (stdin && !stdin.destroyed && stdin.writable) stdin.write(`${line}\n`);
  }

  spawn(spec: ChildSpec): ManagedChild {
    if (this.#stopping) throw new Error(`not starting ${spec.name}: the demo is stopping`);
    const child = new ManagedChild(spec);
    this.#children.push(child);
    const pid = child.pid;
    if (pid !== undefined) this.#tellReaper(`+${pid}`);
    child.onExit((e) => {
      if (pid !== undefined) this.#tellReaper(`-${pid}`);
      if (!this.#stopping) this.#opts.onUnexpectedExit(child, e);
    });
    return child;
  }

  /**
   * Stops everything in order: sidecars first (SIGTERM: they drain in-flight requests, then
   * exit), then the apps behind them, then the control plane, then the reaper. Each gets
   * `graceMs` before SIGKILL.
   */
  async stopAll(sidecarGraceMs: number, appGraceMs: number): Promise<void> {
    this.#stopping = true;
    const byRole = (role: ChildRole): ManagedChild[] => this.#children.filter((c) => c.spec.role === role);
    await Promise.all(byRole('sidecar').map((c) => c.stop(sidecarGraceMs)));
    await Promise.all(byRole('app').map((c) => c.stop(appGraceMs)));
    await Promise.all(byRole('control-plane').map((c) => c.stop(appGraceMs)));
    await this.#stopReaper();
  }

  async #stopReaper(): Promise<void> {
    const reaper = this.#reaper;
    if (reaper === undefined || reaper.exitCode !== null || reaper.signalCode !== null) return;
    const exited = new Promise<void>((r) => reaper.once('exit', () => r()));
    reaper.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), 3000)));
    if ((await Promise.race([exited, late])) === 'late') {
      reaper.kill('SIGKILL');
      await exited;
    }
    clearTimeout(timer);
  }

  /** Last resort, synchronous (for the process `exit` hook): SIGKILL every child still running. */
  killAllNow(): void {
    this.#stopping = true;
    for (const c of this.#children) if (c.exit === undefined) c.signal('SIGKILL');
  }
}
