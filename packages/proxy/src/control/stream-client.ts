import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import type { ConnectionOptions } from 'node:tls';
import {
  CONFIG_STREAM_PATH,
  MAX_STREAM_MESSAGE_BYTES,
  SnapshotMessageSchema,
  StreamErrorSchema,
  type CertificateReport,
  type Hello,
  type ProxySnapshot,
} from '@weft/api/data-plane';
import type { Logger } from '@weft/core';
import { Backoff, type BackoffOptions } from './backoff.js';
import { LineSplitter } from '@weft/core';

/** What loading a snapshot came to: ACK, or NACK with the reason. */
export type ApplyResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Options of {@link ConfigStreamClient}. */
export interface ConfigStreamClientOptions {
  /** The control plane's stream address, `HOST:PORT`. */
  readonly address: string;
  /** The hello of the next connection; called on every connect, so `lastVersion` is current. */
  readonly hello: () => Hello;
  /**
   * Loads a snapshot. Calls never overlap; snapshots that arrive meanwhile are coalesced
   * (only the newest is loaded next). A rejection counts as `{ ok: false }`.
   */
  readonly apply: (version: string, snapshot: ProxySnapshot) => Promise<ApplyResult>;
  readonly logger: Logger;
  /** Reconnect delays (default 100 ms doubling to 10 s, full jitter). */
  readonly backoff?: BackoffOptions;
  /** Time to get the response head after connecting (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Interval of HTTP/2 pings; a ping unanswered by the next one drops the connection (default 10 s). */
  readonly keepaliveMs?: number;
  /** Longest message accepted (default `MAX_STREAM_MESSAGE_BYTES`). */
  readonly maxMessageBytes?: number;
  /** A connection up this long (or that delivered a snapshot) resets the backoff (default 2 s). */
  readonly stableMs?: number;
  /**
   * TLS options, read at every connect (a renewed certificate, a new trust bundle); with
   * them the client speaks h2 over TLS instead of h2c.
   */
  readonly tls?: ConnectionOptions | (() => ConnectionOptions);
  /** Called whenever {@link ConfigStreamClient.status} changes. */
  readonly onChange?: () => void;
}

/** An error the client saw or was told, for `/config` and logs. */
export interface StreamErrorView {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

/** What the client knows of its stream, as the admin port shows it. */
export interface StreamClientStatus {
  readonly address: string;
  readonly connected: boolean;
  /** When the stream last connected or disconnected. */
  readonly since?: string;
  /** Failed attempts since the stream last connected. */
  readonly failures: number;
  readonly lastError?: StreamErrorView;
  readonly lastAckedVersion?: string;
  readonly lastNack?: { readonly version: string; readonly error: string; readonly at: string };
}

/** One snapshot waiting to be loaded, or one that failed its schema (answered with a NACK). */
interface Work {
  readonly conn: Connection;
  readonly version: string;
  readonly snapshot?: ProxySnapshot;
  readonly invalid?: string;
}

const MAX_NACK_CHARS = 4096;
const now = (): string => new Date().toISOString();

/** One attempt: a session and its stream. Closed once, after which it is inert. */
class Connection {
  readonly session: ClientHttp2Session;
  readonly stream: ClientHttp2Stream;
  connectedAt: number | undefined;
  /** Set when the connection delivered a snapshot: it worked, whatever happens next. */
  delivered = false;
  /** Set when the control plane refused us with an `error` message. */
  refused = false;
  closed = false;

  constructor(session: ClientHttp2Session, stream: ClientHttp2Stream) {
    this.session = session;
    this.stream = stream;
  }

  send(message: object): void {
    if (this.closed || this.stream.destroyed || this.stream.writableEnded) return;
    this.stream.write(`${JSON.stringify(message)}\n`);
  }
}

/**
 * The proxy's end of the config stream: connects (h2c, or h2 over TLS), says hello,
 * loads each snapshot through `apply` and answers ACK or NACK, and reconnects with jittered
 * exponential backoff whenever the stream ends. It never gives up and never throws: while
 * it is disconnected the proxy keeps serving what it last loaded.
 */
export class ConfigStreamClient {
  readonly #o: ConfigStreamClientOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  #conn: Connection | undefined;
  #timer: NodeJS.Timeout | undefined;
  #pending: Work | undefined;
  #applying = false;
  #closed = false;
  #status: StreamClientStatus;

  constructor(options: ConfigStreamClientOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'config-stream', controlPlane: options.address });
    this.#backoff = new Backoff(options.backoff);
    this.#status = { address: options.address, connected: false, failures: 0 };
  }

  /** Connects (and keeps reconnecting) until {@link close}. */
  start(): void {
    if (this.#closed || this.#conn !== undefined || this.#timer !== undefined) return;
    this.#connect();
  }

  /** The stream's state now. */
  get status(): StreamClientStatus {
    return this.#status;
  }

  /** Stops reconnecting and closes the stream. A load in progress finishes unanswered. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const conn = this.#conn;
    if (conn !== undefined) this.#drop(conn, undefined);
  }

  #update(patch: Partial<StreamClientStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.#o.onChange?.();
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    const tls = typeof this.#o.tls === 'function' ? this.#o.tls() : this.#o.tls;
    const scheme = tls === undefined ? 'http' : 'https';
    const session = connect(`${scheme}://${this.#o.address}`, { ...tls, settings: { enablePush: false } });
    const stream = session.request(
      { ':method': 'POST', ':path': CONFIG_STREAM_PATH, 'content-type': 'application/x-ndjson' },
      { endStream: false },
    );
    const conn = new Connection(session, stream);
    this.#conn = conn;
    const fail = (message: string): void => this.#drop(conn, { code: 'WEFT_ERR_STREAM_UNREACHABLE', message, at: now() });
    const connectTimer = setTimeout(() => fail(`no answer within ${this.#o.connectTimeoutMs ?? 5000} ms`), this.#o.connectTimeoutMs ?? 5000);
    session.on('error', (err) => fail(err.message));
    session.on('close', () => fail('connection closed'));
    session.on('goaway', () => fail('the control plane closed the connection (GOAWAY)'));
    stream.on('error', (err) => fail(err.message));
    stream.on('close', () => fail('stream closed'));
    stream.on('end', () => fail('the control plane ended the stream'));
    stream.on('response', (headers) => {
      clearTimeout(connectTimer);
      const status = headers[':status'];
      if (status !== 200) return fail(`the control plane answered ${String(status)} on ${CONFIG_STREAM_PATH}`);
      conn.connectedAt = Date.now();
      this.#log.info('config stream connected');
      this.#update({ connected: true, since: now(), failures: 0 });
    });
    const splitter = new LineSplitter(this.#o.maxMessageBytes ?? MAX_STREAM_MESSAGE_BYTES);
    stream.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      const lines = splitter.push(chunk);
      if (lines === 'overflow') return fail(`a message from the control plane is longer than ${this.#o.maxMessageBytes ?? MAX_STREAM_MESSAGE_BYTES} bytes`);
      for (const line of lines) if (!conn.closed) this.#onLine(conn, line);
    });
    this.#keepalive(conn);
    conn.send(this.#o.hello());
    stream.once('close', () => clearTimeout(connectTimer));
  }

  /** Tells the control plane about a renewed certificate, on the stream open now (the next hello carries it anyway). */
  sendCertificate(certificate: CertificateReport): void {
    const conn = this.#conn;
    if (conn !== undefined && !conn.closed && this.#status.connected) conn.send({ type: 'certificate', certificate });
  }

  /** Pings the control plane; a ping still unanswered at the next tick means the connection is dead. */
  #keepalive(conn: Connection): void {
    const every = this.#o.keepaliveMs ?? 10_000;
    let outstanding = false;
    const timer = setInterval(() => {
      if (conn.closed) return clearInterval(timer);
      if (outstanding) {
        this.#drop(conn, { code: 'WEFT_ERR_STREAM_UNREACHABLE', message: `no answer to a ping within ${every} ms`, at: now() });
        return clearInterval(timer);
      }
      outstanding = true;
      try {
        conn.session.ping((err) => {
          if (err === null) outstanding = false;
        });
      } catch {
        // The session is closing; its close event drops the connection.
      }
    }, every);
    timer.unref();
    conn.stream.once('close', () => clearInterval(timer));
  }

  #onLine(conn: Connection, line: string): void {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      return this.#protocolError(conn, 'a message from the control plane is not JSON');
    }
    const type = typeof doc === 'object' && doc !== null && 'type' in doc ? doc.type : undefined;
    if (type === 'error') {
      const e = StreamErrorSchema.safeParse(doc);
      const view = e.success ? { code: e.data.code, message: e.data.message, at: now() } : { code: 'WEFT_ERR_STREAM_BAD_MESSAGE', message: 'malformed error message', at: now() };
      this.#log.warn({ code: view.code }, `the control plane closed the config stream: ${view.message}`);
      conn.refused = true;
      return this.#drop(conn, view);
    }
    if (type !== 'snapshot') return this.#protocolError(conn, `a message from the control plane has unknown type ${JSON.stringify(type)}`);
    const r = SnapshotMessageSchema.safeParse(doc);
    if (r.success) return this.#enqueue({ conn, version: r.data.version, snapshot: r.data.snapshot });
    const version = (doc as { version?: unknown }).version;
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    if (typeof version !== 'string' || version === '') return this.#protocolError(conn, `a snapshot message has no version: ${why}`);
    this.#enqueue({ conn, version, invalid: `invalid snapshot: ${why}` });
  }

  #protocolError(conn: Connection, message: string): void {
    this.#log.error(message);
    this.#drop(conn, { code: 'WEFT_ERR_STREAM_BAD_MESSAGE', message, at: now() });
  }

  #enqueue(work: Work): void {
    if (work.snapshot !== undefined) work.conn.delivered = true;
    this.#pending = work;
    if (!this.#applying) void this.#run();
  }

  async #run(): Promise<void> {
    this.#applying = true;
    for (let w = this.#pending; w !== undefined; w = this.#pending) {
      this.#pending = undefined;
      let result: ApplyResult;
      if (w.snapshot === undefined) result = { ok: false, error: w.invalid ?? 'invalid snapshot' };
      else {
        try {
          result = await this.#o.apply(w.version, w.snapshot);
        } catch (err) {
          result = { ok: false, error: err instanceof Error ? err.message : String(err) };
        }
      }
      if (result.ok) {
        w.conn.send({ type: 'ack', version: w.version });
        this.#update({ lastAckedVersion: w.version });
      } else {
        const error = result.error.length > MAX_NACK_CHARS ? `${result.error.slice(0, MAX_NACK_CHARS - 3)}...` : result.error;
        w.conn.send({ type: 'nack', version: w.version, error });
        this.#log.error({ version: w.version }, `snapshot refused (NACK), the last good config keeps serving: ${error}`);
        this.#update({ lastNack: { version: w.version, error, at: now() } });
      }
    }
    this.#applying = false;
  }

  /** Ends `conn` (once) and schedules the next attempt. */
  #drop(conn: Connection, error: StreamErrorView | undefined): void {
    if (conn.closed) return;
    conn.closed = true;
    if (!conn.stream.destroyed) conn.stream.close();
    conn.session.destroy();
    if (this.#conn === conn) this.#conn = undefined;
    const wasConnected = conn.connectedAt !== undefined;
    const stable = !conn.refused && (conn.delivered || (wasConnected && Date.now() - (conn.connectedAt ?? 0) >= (this.#o.stableMs ?? 2000)));
    if (stable) this.#backoff.reset();
    if (this.#closed) {
      this.#update({ connected: false, since: now() });
      return;
    }
    const failures = stable ? 0 : this.#status.failures + 1;
    const delay = this.#backoff.next();
    if (wasConnected) this.#log.warn({ retryInMs: delay }, `config stream lost${error === undefined ? '' : `: ${error.message}`}; serving the last config meanwhile`);
    else if (failures === 1) this.#log.warn({ retryInMs: delay }, `cannot reach the control plane${error === undefined ? '' : `: ${error.message}`}; retrying with backoff`);
    else this.#log.debug({ retryInMs: delay, failures }, 'config stream attempt failed');
    this.#update({
      ...(wasConnected ? { connected: false, since: now() } : {}),
      failures,
      ...(error === undefined ? {} : { lastError: error }),
    });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
