import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository, from this file's place in it (packages/testing/src or dist). */
export const REPO_ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The `weft` command's TypeScript entry point, run from source. */
export const WEFT_CLI_MAIN: string = resolve(REPO_ROOT, 'packages/cli/src/main.ts');

/** Which output a line came from. */
export type OutputStream = 'stdout' | 'stderr';

/** One complete line of a child's output. */
export interface OutputLine {
  readonly stream: OutputStream;
  readonly text: string;
}

/** How a process ended: `code` is null when a signal ended it. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link startWeft}. */
export interface WeftProcessOptions {
  /** Working directory. Default: the repository root. */
  cwd?: string;
  /** Variables set (or, when undefined, removed) over the test's own environment. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** A node:test context (anything with `after`): the process is killed when the test ends. */
  t?: { after: (fn: () => Promise<unknown>) => void };
  /** Script to run instead of the CLI's main.ts (for testing this harness). */
  entry?: string;
  /** Copy every line to the test's stderr as it arrives. Default: env `WEFT_TEST_ECHO=1`. */
  echo?: boolean;
}

/** Options of {@link WeftProcess.waitForLine}. */
export interface WaitForLineOptions {
  /** Only lines from this stream. Default: both. */
  stream?: OutputStream;
  /** Only lines after this many lines (a value of {@link WeftProcess.lineCount} taken earlier). */
  since?: number;
}

/** A running `weft` child process; see {@link startWeft}. */
export interface WeftProcess {
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  /** Complete lines so far, both streams, in arrival order. */
  readonly lines: readonly OutputLine[];
  /** `lines.length`: a mark to pass as `since` to wait only for what comes next. */
  readonly lineCount: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once the process has exited. */
  readonly exit: ProcessExit | undefined;
  /** Every line so far, prefixed by stream, for assertion messages. */
  output(): string;
  /**
   * Resolves with the match of the first line (already received or still to come) that
   * matches `pattern`; rejects after `timeoutMs`, or when the process exits first, with
   * the output tail in the message.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number, opts?: WaitForLineOptions): Promise<RegExpExecArray>;
  /**
   * Sends `signal` (default SIGTERM), waits up to `timeoutMs` (default 10 s) for the exit,
   * then SIGKILLs; resolves with the exit code (null when a signal ended it). Bound.
   */
  readonly stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
  /** SIGKILL and wait; a no-op once exited. Bound, so `t.after(weft.kill)` works. */
  readonly kill: () => Promise<void>;
}

// Children still alive when the test process exits are killed, so that a failed
// assertion or a crashed test file never leaves a proxy listening behind it.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
};

const TAIL = 40;

/**
 * Spawns `node --conditions=weft-source --import tsx packages/cli/src/main.ts ...args`
 * (the `weft` command from source) and captures its output line by line.
 * The child gets `NO_COLOR=1` so that patterns need not match escape codes, and not the
 * node:test variables of the test process, so that it never mistakes itself for a test.
 * Pass `opts.t`, or call `kill` in `t.after`: a child is also killed when the test process exits.
 */
export const startWeft = (args: readonly string[], opts: WeftProcessOptions = {}): WeftProcess => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env['NODE_TEST_CONTEXT'];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  // tsx is resolved here rather than by name, so that any cwd works.
  const tsx = import.meta.resolve('tsx');
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--import', tsx, opts.entry ?? WEFT_CLI_MAIN, ...args],
    { cwd: opts.cwd ?? REPO_ROOT, env, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
  );
  installExitHook();
  live.add(child);
  if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
  const echo = opts.echo ?? process.env['WEFT_TEST_ECHO'] === '1';

  const lines: OutputLine[] = [];
  let exit: ProcessExit | undefined;
  const waiters = new Set<{ check: (index: number) => void; fail: (why: string) => void }>();

  const output = (from = 0): string => lines.slice(from).map((l) => `${l.stream}| ${l.text}`).join('\n');
  const tail = (): string => output(Math.max(0, lines.length - TAIL)) || '(no output)';

  const push = (stream: OutputStream, text: string): void => {
    lines.push({ stream, text });
    if (echo) process.stderr.write(`[weft ${child.pid ?? '?'} ${stream}] ${text}\n`);
    for (const w of waiters) w.check(lines.length - 1);
  };
  const partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    const s = child[stream];
    if (s === null) continue; // never: both are pipes
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      const parts = (partial[stream] + chunk).split('\n');
      partial[stream] = parts.pop() ?? '';
      for (const p of parts) push(stream, p.replace(/\r$/, ''));
    });
  }

  const exited = new Promise<ProcessExit>((resolveExit) => {
    const done = (e: ProcessExit): void => {
      if (exit) return;
      live.delete(child);
      for (const stream of ['stdout', 'stderr'] as const) {
        if (partial[stream] !== '') push(stream, partial[stream]);
        partial[stream] = '';
      }
      exit = e;
      for (const w of waiters) w.fail(`exited (code ${String(e.code)}, signal ${String(e.signal)})`);
      resolveExit(e);
    };
    // 'close' comes after the output streams are drained, so no line is lost.
    child.once('close', (code, signal) => done({ code, signal }));
    child.once('error', (err) => {
      push('stderr', `spawn failed: ${err.message}`);
      done({ code: null, signal: null });
    });
  });

  const waitForLine = (pattern: RegExp, timeoutMs = 10_000, o: WaitForLineOptions = {}): Promise<RegExpExecArray> =>
    new Promise((resolveLine, reject) => {
      // Without the g/y flags, exec() is stateless, so one pattern can be reused safely.
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      const waiter = {
        check: (index: number): void => {
          const l = lines[index];
          if (l === undefined || (o.stream !== undefined && l.stream !== o.stream)) return;
          const m = re.exec(l.text);
          if (m) settle(() => resolveLine(m));
        },
        fail: (why: string): void =>
          settle(() => reject(new Error(`waitForLine(${String(pattern)}): process ${why} first; output tail:\n${tail()}`))),
      };
      const timer = setTimeout(
        () => waiter.fail(`did not print a matching line within ${timeoutMs} ms`),
        timeoutMs,
      );
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        waiters.delete(waiter);
        f();
      };
      for (let i = o.since ?? 0; i < lines.length && !settled; i++) waiter.check(i);
      if (settled) return;
      if (exit) waiter.fail(`exited (code ${String(exit.code)}, signal ${String(exit.signal)})`);
      else waiters.add(waiter);
    });

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> => {
    if (!exit) {
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => {
        timer = setTimeout(() => r('late'), timeoutMs);
      });
      const first = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (first === 'late') {
        child.kill('SIGKILL');
      }
    }
    return (await exited).code;
  };
  const kill = async (): Promise<void> => {
    await stop('SIGKILL');
  };
  opts.t?.after(kill);

  return {
    child,
    pid: child.pid,
    get lines() {
      return lines;
    },
    get lineCount() {
      return lines.length;
    },
    exited,
    get exit() {
      return exit;
    },
    output: () => output(),
    waitForLine,
    stop,
    kill,
  };
};
