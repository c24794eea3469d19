import { constants, type ServerHttp2Stream } from 'node:http2';
import { snapshotVersion, type CertificateReport, type Hello, type ProxySnapshot } from '@weft/api';
import { LineSplitter } from '@weft/core';
import { encodeLine, parseProxyMessage, snapshotLine } from './messages.js';
import { StreamError } from './stream-error.js';

/** What a proxy stream reports up, one call per event; a handler may throw a StreamError to close it. */
export interface ProxyStreamHandlers {
  hello(stream: ProxyStream, hello: Hello): void;
  ack(stream: ProxyStream, version: string): void;
  nack(stream: ProxyStream, version: string, error: string): void;
  /** The stream ended, for whatever reason; called once. */
  closed(stream: ProxyStream): void;
  /** The stream is being closed for `error` (logged by the caller). */
  refused(stream: ProxyStream, error: StreamError): void;
}

/** Limits of one stream. */
export interface ProxyStreamLimits {
  readonly helloTimeoutMs: number;
  readonly maxMessageBytes: number;
}

/** A proxy's sync state, for `weft check` and `weft proxy-config`. */
export interface ProxySyncState {
  /** Identifier of this stream (a new one on each connection). */
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly service: string;
  readonly remoteAddress: string;
  readonly connectedAt: string;
  /** The latest version written to the proxy (or that it said it runs, in its hello). */
  readonly sentVersion?: string;
  /** The latest version the proxy acknowledged. */
  readonly ackedVersion?: string;
  readonly ackedAt?: string;
  /** The latest version the proxy refused, and why; it keeps serving its last good one. */
  readonly nack?: { readonly version: string; readonly error: string; readonly at: string };
  /** The workload certificate the proxy last reported (root it chains to, expiry). */
  readonly certificate?: CertificateReport;
  /** Acknowledged the latest version sent, and nothing is waiting to be sent. */
  readonly inSync: boolean;
  /** Snapshots written to this stream. */
  readonly pushes: number;
  /** Snapshots replaced by a newer one before they could be written (slow reader). */
  readonly coalesced: number;
}

/** An unexpected failure while serving a stream (a bug), as the error the proxy is told. */
export const internalError = (err: unknown): StreamError =>
  new StreamError('WEFT_ERR_STREAM_INTERNAL', `the control plane failed while serving this stream: ${err instanceof Error ? err.message : String(err)}`);

/** Versions remembered as sent, so that a late ACK of an older one is recognized. */
const SENT_MEMORY = 16;
/** How long a refused stream may take to flush its `error` message before it is reset. */
const CLOSE_GRACE_MS = 1000;

/**
 * One proxy's config stream on the control plane: reads its NDJSON messages (bounded,
 * validated, in protocol order: `hello` first and once, then `ack`/`nack` of versions sent
 * here), and writes snapshots with backpressure. While the proxy does not drain its
 * stream, only the newest snapshot waits (older waiting ones are dropped, `coalesced`), so a
 * slow or stuck proxy costs at most one pending snapshot, never a queue.
 */
export class ProxyStream {
  readonly id: string;
  readonly remoteAddress: string;
  readonly connectedAt: string;
  readonly #stream: ServerHttp2Stream;
  readonly #handlers: ProxyStreamHandlers;
  #hello: Hello | undefined;
  #state: 'awaiting-hello' | 'open' | 'closed' = 'awaiting-hello';
  #helloTimer: NodeJS.Timeout | undefined;
  #sent: string[] = [];
  #sentVersion: string | undefined;
  #pending: { version: string; line: Buffer } | undefined;
  #waitingDrain = false;
  #acked: { version: string; at: string } | undefined;
  #nack: { version: string; error: string; at: string } | undefined;
  #certificate: CertificateReport | undefined;
  #pushes = 0;
  #coalesced = 0;

  constructor(id: string, stream: ServerHttp2Stream, limits: ProxyStreamLimits, handlers: ProxyStreamHandlers) {
    this.id = id;
    this.#stream = stream;
    this.#handlers = handlers;
    this.remoteAddress = stream.session?.socket?.remoteAddress ?? 'unknown';
    this.connectedAt = new Date().toISOString();
    const splitter = new LineSplitter(limits.maxMessageBytes);
    stream.on('data', (chunk: Buffer) => {
      if (this.#state === 'closed') return;
      const lines = splitter.push(chunk);
      if (lines === 'overflow') {
        return this.refuse(new StreamError('WEFT_ERR_STREAM_TOO_LARGE', `a message is longer than ${limits.maxMessageBytes} bytes`));
      }
      for (const line of lines) {
        // A line may have closed the stream (a refusal); the rest of the chunk is dropped.
        if (!this.open) return;
        this.#onLine(line);
      }
    });
    // The proxy ended its side: nothing more will come, so end ours.
    stream.on('end', () => this.#finish());
    stream.on('close', () => this.#finish());
    stream.on('error', () => this.#finish());
    this.#helloTimer = setTimeout(
      () => this.refuse(new StreamError('WEFT_ERR_STREAM_HELLO_TIMEOUT', `no hello within ${limits.helloTimeoutMs} ms`)),
      limits.helloTimeoutMs,
    );
    this.#helloTimer.unref();
  }

  /** The proxy's hello, once received. */
  get hello(): Hello | undefined {
    return this.#hello;
  }

  /** False once the stream ended or was refused. */
  get open(): boolean {
    return this.#state !== 'closed';
  }

  /**
   * Sends `snapshot` unless it is the version last sent or already waiting. Returns true
   * when something was sent or queued (replacing a waiting snapshot counts as coalesced).
   */
  push(snapshot: ProxySnapshot): boolean {
    if (this.#state !== 'open') return false;
    const version = snapshotVersion(snapshot);
    if (version === (this.#pending?.version ?? this.#sentVersion)) return false;
    if (this.#waitingDrain) {
      if (this.#pending !== undefined) this.#coalesced++;
      this.#pending = version === this.#sentVersion ? undefined : { version, line: snapshotLine(snapshot) };
      return this.#pending !== undefined;
    }
    this.#write(version, snapshotLine(snapshot));
    return true;
  }

  /** Records that the proxy already runs `version` (its hello's `lastVersion`), as if sent and acknowledged. */
  markRunning(version: string): void {
    this.#remember(version);
    this.#acked = { version, at: new Date().toISOString() };
  }

  /** Sends `error` as the stream's last message and closes it. Idempotent. */
  refuse(error: StreamError): void {
    if (this.#state === 'closed') return;
    this.#handlers.refused(this, error);
    this.#close();
    const s = this.#stream;
    if (s.destroyed || s.writableEnded) return;
    s.end(encodeLine({ type: 'error', code: error.code, message: error.message }), () => {
      // Our side is complete; tell the proxy to stop sending too (RFC 9113 8.1: NO_ERROR after a complete response).
      if (!s.destroyed) s.close();
    });
    // A proxy that does not read never lets the message flush: cancel the stream then.
    setTimeout(() => {
      if (!s.destroyed) s.close(constants.NGHTTP2_CANCEL);
    }, CLOSE_GRACE_MS).unref();
  }

  /** The sync state now. */
  syncState(): ProxySyncState | undefined {
    const h = this.#hello;
    if (h === undefined) return undefined;
    return {
      id: this.id,
      workload: h.workload,
      namespace: h.namespace,
      service: h.service,
      remoteAddress: this.remoteAddress,
      connectedAt: this.connectedAt,
      ...(this.#sentVersion === undefined ? {} : { sentVersion: this.#sentVersion }),
      ...(this.#acked === undefined ? {} : { ackedVersion: this.#acked.version, ackedAt: this.#acked.at }),
      ...(this.#nack === undefined ? {} : { nack: this.#nack }),
      ...(this.#certificate === undefined ? {} : { certificate: this.#certificate }),
      inSync: this.#pending === undefined && this.#sentVersion !== undefined && this.#acked?.version === this.#sentVersion,
      pushes: this.#pushes,
      coalesced: this.#coalesced,
    };
  }

  #onLine(line: string): void {
    try {
      const m = parseProxyMessage(line);
      if (m.type === 'hello') {
        if (this.#hello !== undefined) throw new StreamError('WEFT_ERR_STREAM_UNEXPECTED_MESSAGE', 'a second hello on the same stream');
        this.#hello = m;
        this.#certificate = m.certificate;
        if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
        this.#state = 'open';
        this.#handlers.hello(this, m);
        return;
      }
      if (this.#hello === undefined) throw new StreamError('WEFT_ERR_STREAM_UNEXPECTED_MESSAGE', `${m.type} before hello: the first message must be a hello`);
      if (m.type === 'certificate') {
        this.#certificate = m.certificate;
        return;
      }
      if (!this.#sent.includes(m.version)) {
        throw new StreamError('WEFT_ERR_STREAM_UNEXPECTED_MESSAGE', `${m.type} of version ${m.version}, which was not sent on this stream`);
      }
      const at = new Date().toISOString();
      if (m.type === 'ack') {
        this.#acked = { version: m.version, at };
        this.#handlers.ack(this, m.version);
      } else {
        this.#nack = { version: m.version, error: m.error, at };
        this.#handlers.nack(this, m.version, m.error);
      }
    } catch (err) {
      // Whatever went wrong costs this stream only, never the process.
      this.refuse(err instanceof StreamError ? err : internalError(err));
    }
  }

  #remember(version: string): void {
    this.#sentVersion = version;
    this.#sent.push(version);
    if (this.#sent.length > SENT_MEMORY) this.#sent.shift();
  }

  #write(version: string, line: Buffer): void {
    this.#remember(version);
    this.#pushes++;
    if (this.#stream.write(line)) return;
    this.#waitingDrain = true;
    this.#stream.once('drain', () => {
      this.#waitingDrain = false;
      const next = this.#pending;
      this.#pending = undefined;
      if (next !== undefined && this.#state === 'open' && next.version !== this.#sentVersion) this.#write(next.version, next.line);
    });
  }

  #close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#pending = undefined;
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#handlers.closed(this);
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#close();
    // Ending our side completes the stream. Not `close()` as well: on Node 20, `end()`
    // followed at once by `close()` on a stream the peer reset spins the event loop forever.
    if (!this.#stream.destroyed && !this.#stream.writableEnded) this.#stream.end();
  }
}
