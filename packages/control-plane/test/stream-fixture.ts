/**
 * Helpers for the config stream tests: an in-process control plane on port 0 with a memory
 * store and a log that tests can read, and raw HTTP/2 stream clients that send exactly
 * the bytes a test wants (a well-behaved proxy, or garbage).
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type SecureClientSessionOptions } from 'node:http2';
import { pino } from 'pino';
import { CONFIG_STREAM_PATH, type Hello } from '@weft/api';
import type { Logger } from '@weft/core';
import { createTmpDir } from '@weft/testing';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../src/index.js';

/** A node:test context (or anything with `after`). */
export interface TestContext {
  after(fn: () => Promise<unknown> | void): void;
}

/** A logger whose JSON lines are kept in memory. */
export const recordingLogger = (): { logger: Logger; lines: () => Record<string, unknown>[] } => {
  const out: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void out.push(s) });
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
};

/** A control plane on loopback port 0 with a memory store (by default), closed after the test. */
export const startTestControlPlane = async (
  t: TestContext,
  options: Partial<ControlPlaneOptions> = {},
): Promise<{ cp: ControlPlane; logs: () => Record<string, unknown>[] }> => {
  const dir = await createTmpDir({ prefix: 'cp', t: { after: (fn) => t.after(fn) } });
  const { logger, lines } = recordingLogger();
  const cp = await startControlPlane({ dataDir: dir.path, apiAddr: '127.0.0.1:0', streamAddr: '127.0.0.1:0', store: 'memory', logger, graceMs: 200, security: false, ...options });
  t.after(() => cp.close());
  return { cp, logs: lines };
};

/** A hello for workload `name` of `service`, with overrides. */
export const helloFor = (name: string, service: string, overrides: Partial<Hello> = {}): Hello => ({
  type: 'hello',
  workload: name,
  service,
  namespace: 'default',
  address: '127.0.0.1',
  port: 20000 + (Math.abs([...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7)) % 20000),
  appProtocol: 'http',
  labels: {},
  upstreams: [],
  allServices: false,
  proxyVersion: 'test',
  ...overrides,
});

/** A parsed message the control plane sent. */
export type Received = { type: 'snapshot'; version: string; snapshot: { services: { name: string }[]; endpoints: Record<string, { address: string; port: number }[]> } } | { type: 'error'; code: string; message: string };

/** A raw stream client; see {@link openStream}. */
export interface RawStream {
  readonly session: ClientHttp2Session;
  readonly stream: ClientHttp2Stream;
  /** Every message received so far. */
  readonly received: Received[];
  /** Snapshot messages received so far. */
  snapshots(): Extract<Received, { type: 'snapshot' }>[];
  /** Writes `message` as a JSON line, or a string exactly as given. */
  send(message: object | string): void;
  /** Resolves with the first message (received already or later) that `pred` accepts. */
  waitFor(pred: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  /** Resolves when the control plane has ended the stream (or it closed). */
  readonly ended: Promise<void>;
  readonly isEnded: boolean;
  close(): void;
}

/**
 * Opens a stream to the control plane at `port`. With `autoAck`, each snapshot is
 * acknowledged at once, as a healthy proxy would.
 */
export const openStream = (
  t: TestContext,
  port: number,
  opts: { autoAck?: boolean; path?: string; settings?: SecureClientSessionOptions['settings'] } = {},
): RawStream => {
  const session = connect(`http://127.0.0.1:${port}`, { settings: { enablePush: false, ...opts.settings } });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': opts.path ?? CONFIG_STREAM_PATH }, { endStream: false });
  stream.on('error', () => undefined);
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  let isEnded = false;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = JSON.parse(line) as Received;
      received.push(m);
      if (opts.autoAck === true && m.type === 'snapshot' && !stream.writableEnded) stream.write(`${JSON.stringify({ type: 'ack', version: m.version })}\n`);
    }
    for (const w of waiters) w();
  });
  const ended = new Promise<void>((resolve) => {
    const done = (): void => {
      isEnded = true;
      for (const w of waiters) w();
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
  });
  const raw: RawStream = {
    session,
    stream,
    received,
    snapshots: () => received.filter((m): m is Extract<Received, { type: 'snapshot' }> => m.type === 'snapshot'),
    send: (message) => {
      if (!stream.writableEnded && !stream.destroyed) stream.write(typeof message === 'string' ? message : `${JSON.stringify(message)}\n`);
    },
    waitFor: (pred, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = received.find(pred);
          if (m !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(m);
          } else if (isEnded) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`stream ended without the expected message; received: ${JSON.stringify(received).slice(0, 500)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no expected message within ${timeoutMs} ms; received: ${JSON.stringify(received).slice(0, 500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    ended,
    get isEnded() {
      return isEnded;
    },
    close: () => {
      if (!stream.destroyed) stream.close();
      session.destroy();
    },
  };
  t.after(() => raw.close());
  return raw;
};

/** Waits until `check` returns true (polling every 20 ms), or fails after `timeoutMs`. */
export const eventually = async (check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Resolves after `ms` (for asserting that something does NOT happen within a window). */
export const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
