import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { dial, type ConnectTarget } from '../transport/connect.js';

/** Settings of the sessions a pool opens. */
export interface Http2PoolOptions {
  /** `maxSessionMemory` of each session, in megabytes (Node's unit). */
  readonly maxSessionMemoryMb: number;
  /** A session with no activity for this long is closed (gracefully); 0 keeps it. */
  readonly idleTimeoutMs: () => number;
}

/** Calls back once, with a session to send on or the error that kept one from opening. */
export type SessionCallback = (err: Error | undefined, session: ClientHttp2Session | undefined) => void;

/** One endpoint's current session, or the dial that will become it. */
interface Entry {
  readonly key: string;
  readonly target: ConnectTarget;
  /** Sessions are reused only by requests of the same transport generation (TLS material). */
  readonly generation: string;
  session: ClientHttp2Session | undefined;
  /** Requests waiting while the session dials; undefined once it is open. */
  waiters: SessionCallback[] | undefined;
}

const usable = (s: ClientHttp2Session): boolean => !s.closed && !s.destroyed;

const originOf = (target: ConnectTarget): string => {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.tls === undefined ? 'http' : 'https'}://${host}:${target.port}`;
};

/**
 * One multiplexed HTTP/2 session per endpoint, so that the connections from this proxy
 * stay bounded by the number of endpoints however many streams it carries. A session is
 * dialled on first use (with ALPN `h2` over TLS, or h2c in the clear), shared by every
 * stream to that endpoint, and replaced when the peer sends GOAWAY or the connection
 * closes. Sessions that leave (endpoint gone from the config, transport changed) are
 * closed gracefully: no new streams, while the streams they carry run to their end.
 */
export class Http2SessionPool {
  readonly #options: Http2PoolOptions;
  readonly #entries = new Map<string, Entry>();
  /** Every session this pool opened that is not closed yet, current or retiring. */
  readonly #open = new Set<ClientHttp2Session>();
  #closed = false;

  constructor(options: Http2PoolOptions) {
    this.#options = options;
  }

  /** Sessions open (current and retiring), for tests and metrics. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Calls back with the session for `target.key`, dialling one if there is none. A session
   * of another `generation` (older TLS material) is retired and a new one dialled.
   */
  acquire(target: ConnectTarget, generation: string, done: SessionCallback): void {
    if (this.#closed) {
      done(new Error('the HTTP/2 session pool is closed'), undefined);
      return;
    }
    let entry = this.#entries.get(target.key);
    if (entry !== undefined && entry.generation !== generation) {
      this.#retire(entry);
      entry = undefined;
    }
    if (entry !== undefined && entry.session !== undefined && !usable(entry.session)) {
      this.#entries.delete(entry.key);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { key: target.key, target, generation, session: undefined, waiters: [] };
      this.#entries.set(target.key, entry);
      this.#dial(entry);
    }
    if (entry.session !== undefined) done(undefined, entry.session);
    else entry.waiters?.push(done);
  }

  /** Drops a session a request found unusable, so that the next acquire dials a new one. */
  discard(key: string, session: ClientHttp2Session): void {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.session === session) this.#retire(entry);
  }

  /** Retires (gracefully) the sessions of endpoints whose key is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const entry of [...this.#entries.values()]) if (!keep.has(entry.key)) this.#retire(entry);
  }

  /** Destroys every session now, streams and all. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) {
      const waiters = entry.waiters;
      entry.waiters = undefined;
      for (const w of waiters ?? []) w(new Error('the HTTP/2 session pool is closed'), undefined);
    }
    this.#entries.clear();
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }

  #retire(entry: Entry): void {
    if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
    // A dial in progress hands its session to its waiters, then closes it (see #dial).
    if (entry.session !== undefined && usable(entry.session)) entry.session.close();
  }

  #dial(entry: Entry): void {
    dial(entry.target, 'h2', (err, socket) => {
      const waiters = entry.waiters ?? [];
      entry.waiters = undefined;
      if (err !== undefined || socket === undefined || this.#closed) {
        socket?.destroy();
        if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
        const e = err ?? new Error('the HTTP/2 session pool is closed');
        for (const w of waiters) w(e, undefined);
        return;
      }
      const session = http2Connect(originOf(entry.target), {
        createConnection: () => socket,
        maxSessionMemory: this.#options.maxSessionMemoryMb,
        settings: { enablePush: false },
      });
      entry.session = session;
      this.#open.add(session);
      // Errors end the session; 'close' follows and is where it leaves the pool.
      session.on('error', noop);
      session.once('goaway', () => {
        // No new streams on it; the ones it carries finish. The next request dials anew.
        if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
      });
      session.once('close', () => {
        this.#open.delete(session);
        if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
      });
      const idle = this.#options.idleTimeoutMs();
      if (idle > 0) {
        session.setTimeout(idle, () => {
          if (this.#entries.get(entry.key) === entry) this.#entries.delete(entry.key);
          session.close();
        });
      }
      for (const w of waiters) w(undefined, session);
      // Retired while it dialled: the waiters' streams run, nothing new starts on it.
      if (this.#entries.get(entry.key) !== entry) session.close();
    });
  }
}

const noop = (): void => {};
