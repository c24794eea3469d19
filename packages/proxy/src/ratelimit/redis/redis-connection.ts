import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { encodeCommand, RespParser, type RespValue } from './resp.js';

/** Options of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Most commands waiting for a reply; past it a command fails at once (no unbounded queue). */
  readonly maxPending?: number;
  /** After the connection failed, commands fail at once for this long before a new connect is tried. */
  readonly reconnectDelayMs?: number;
}

/** Why a command did not get a reply. */
export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

interface Pending {
  resolve: (v: RespValue) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
}

const DEFAULT_MAX_PENDING = 1024;
const DEFAULT_RECONNECT_DELAY_MS = 250;

/**
 * One pipelined connection to Redis: commands are written as they come and replies matched
 * in order. Every command has its own deadline; a command past it fails and the connection
 * is dropped, so a slow or hung Redis costs a caller at most its timeout. The queue of
 * commands awaiting replies is bounded, and after a failed connection commands fail at
 * once for a short while instead of each trying to connect. The socket is unref'd: an idle
 * connection never keeps the process alive.
 */
export class RedisConnection {
  readonly #opts: Required<RedisConnectionOptions>;
  #socket: Socket | undefined;
  #parser = new RespParser();
  readonly #pending: Pending[] = [];
  #downUntil = 0;
  #lastError = '';
  #closed = false;

  constructor(options: RedisConnectionOptions) {
    this.#opts = { maxPending: DEFAULT_MAX_PENDING, reconnectDelayMs: DEFAULT_RECONNECT_DELAY_MS, ...options };
  }

  /** Commands awaiting a reply (timed-out ones included until their reply or the connection's end). */
  get inFlight(): number {
    return this.#pending.length;
  }

  /** Sends one command; resolves with its reply (an error reply is a RespError value), rejects with RedisUnavailableError. */
  command(args: readonly (string | number)[], timeoutMs: number): Promise<RespValue> {
    if (this.#closed) return Promise.reject(new RedisUnavailableError('connection closed'));
    if (performance.now() < this.#downUntil) return Promise.reject(new RedisUnavailableError(`Redis unreachable: ${this.#lastError}`));
    if (this.#pending.length >= this.#opts.maxPending) return Promise.reject(new RedisUnavailableError(`more than ${this.#opts.maxPending} commands awaiting Redis`));
    const socket = this.#socket ?? this.#connect();
    return new Promise<RespValue>((resolve, reject) => {
      const p: Pending = { resolve, reject, timer: undefined, settled: false };
      p.timer = setTimeout(() => {
        if (p.settled) return;
        p.settled = true;
        reject(new RedisUnavailableError(`no reply from Redis within ${timeoutMs} ms`));
        // A Redis that missed a deadline is not trusted with the next ones: the connection
        // is dropped (failing what else waits on it) and made anew after the reconnect delay.
        if (this.#socket === socket) this.#down(`no reply within ${timeoutMs} ms`);
      }, timeoutMs);
      p.timer.unref();
      this.#pending.push(p);
      socket.write(encodeCommand(args));
    });
  }

  /** Closes the connection; commands in flight fail. */
  close(): void {
    this.#closed = true;
    this.#fail('connection closed');
  }

  #connect(): Socket {
    const socket = connect({ host: this.#opts.host, port: this.#opts.port, noDelay: true });
    socket.unref();
    this.#socket = socket;
    this.#parser = new RespParser();
    socket.on('data', (chunk: Buffer) => {
      let replies: RespValue[];
      try {
        replies = this.#parser.push(chunk);
      } catch (err) {
        this.#down(`protocol error: ${(err as Error).message}`);
        return;
      }
      for (const reply of replies) {
        const p = this.#pending.shift();
        if (p === undefined) {
          this.#down('reply without a command');
          return;
        }
        this.#settle(p, () => p.resolve(reply));
      }
    });
    socket.on('error', (err) => this.#down(err.message));
    socket.on('close', () => this.#down('connection closed by Redis'));
    return socket;
  }

  /** The connection failed: everything in flight fails, and new commands fail fast for a while. */
  #down(reason: string): void {
    if (this.#socket === undefined) return;
    this.#lastError = reason;
    this.#downUntil = performance.now() + this.#opts.reconnectDelayMs;
    this.#fail(reason);
  }

  #fail(reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.destroy();
    for (const p of this.#pending.splice(0)) this.#settle(p, () => p.reject(new RedisUnavailableError(`Redis connection failed: ${reason}`)));
  }

  #settle(p: Pending, fn: () => void): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (p.settled) return;
    p.settled = true;
    fn();
  }
}
