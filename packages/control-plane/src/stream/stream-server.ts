import { randomUUID } from 'node:crypto';
import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type SecureServerOptions,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { CONFIG_STREAM_PATH, MAX_STREAM_MESSAGE_BYTES, snapshotVersion, type Hello, type ProxySnapshot } from '@weft/api';
import { spiffeIdOf, type Logger } from '@weft/core';
import { internalError, ProxyStream, type ProxyStreamHandlers, type ProxySyncState } from './proxy-stream.js';
import { StreamError } from './stream-error.js';

/** What the stream server asks of the rest of the control plane (the registry and the compiler). */
export interface StreamBackend {
  /** Registers the proxy of a new stream; throw a `StreamError` to refuse it. */
  admit(stream: ProxyStreamInfo): void;
  /** An admitted stream ended (or was replaced); called once per admitted stream. */
  release(stream: ProxyStreamInfo): void;
  /** The proxy applied `version`, or said in its hello that it runs it. */
  acked(stream: ProxyStreamInfo, version: string): void;
  /** The proxy refused `version` and keeps its last good config. */
  nacked(stream: ProxyStreamInfo, version: string, error: string): void;
  /** The snapshot the proxy of `hello` should run now (cheap for unchanged inputs). */
  snapshotFor(hello: Hello): ProxySnapshot;
}

/** An admitted stream as the backend sees it. */
export interface ProxyStreamInfo {
  /** Identifier of the stream; a reconnect gets a new one. */
  readonly id: string;
  readonly hello: Hello;
  readonly remoteAddress: string;
  readonly connectedAt: string;
  /** The SPIFFE ID of the client certificate the connection was authenticated with (TLS only). */
  readonly peerIdentity: string | undefined;
}

/** A handler of another path on the stream's server (workload certificate issuance). */
export type StreamServerRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, peerIdentity: string | undefined) => void;

/** TLS for the stream (the security issue adds client certificates): any `createSecureServer` options. */
export type StreamTlsOptions = Pick<SecureServerOptions, 'secureContext' | 'key' | 'cert' | 'ca' | 'requestCert' | 'rejectUnauthorized' | 'minVersion'>;

/** Options of {@link StreamServer.start}. */
export interface StreamServerOptions {
  /** Interface to bind (default `0.0.0.0`). */
  readonly host?: string;
  /** Port to bind (default 7701; 0 picks one). */
  readonly port?: number;
  readonly backend: StreamBackend;
  readonly logger: Logger;
  /** Serve h2 over TLS instead of h2c. */
  readonly tls?: StreamTlsOptions;
  /** A stream must say hello within this time (default 10 s). */
  readonly helloTimeoutMs?: number;
  /** Longest message accepted (default `MAX_STREAM_MESSAGE_BYTES`). */
  readonly maxMessageBytes?: number;
  /** Interval of HTTP/2 pings per connection; unanswered by the next one, the connection is dropped (default 15 s). */
  readonly keepaliveMs?: number;
  /** Handlers of other paths, by `:path`. */
  readonly routes?: ReadonlyMap<string, StreamServerRoute>;
}

/** Counters of the server. */
export interface StreamServerStats {
  /** Streams admitted now. */
  readonly proxies: number;
  /** Streams refused or closed with an error since start. */
  readonly refused: number;
  /** Snapshots written, all streams. */
  readonly pushes: number;
}

/** The SPIFFE ID of a verified client certificate on the stream's connection, if any. */
const peerIdentityOf = (stream: ServerHttp2Stream): string | undefined => {
  const socket = stream.session?.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  return spiffeIdOf(socket.getPeerX509Certificate());
};

/** Concurrent streams one connection may open: one proxy needs one; a few allow a reconnect on a live connection. */
const MAX_STREAMS_PER_CONNECTION = 4;

/**
 * The control plane's end of the config stream: an HTTP/2 server (h2c, or h2 over TLS) on
 * which each proxy holds one request at `CONFIG_STREAM_PATH`. A stream is admitted on its
 * hello and answered with the proxy's snapshot unless the proxy already runs that version;
 * {@link refresh} (after every change) pushes to exactly the proxies whose version changed.
 * A stream that misbehaves gets one `error` message and is closed; nothing else is touched.
 */
export class StreamServer {
  readonly #o: StreamServerOptions;
  readonly #log: Logger;
  readonly #server: Http2Server;
  readonly #sessions = new Set<Http2Session>();
  readonly #streams = new Set<ProxyStream>();
  /** Admitted streams by `namespace/workload`; a newer hello replaces the older stream. */
  readonly #byWorkload = new Map<string, ProxyStream>();
  /** Streams the backend admitted (each is released once when it ends). */
  readonly #admitted = new WeakSet<ProxyStream>();
  /** The authenticated client identity of each stream's connection. */
  readonly #peers = new WeakMap<ProxyStream, string | undefined>();
  readonly #handlers: ProxyStreamHandlers;
  #port = 0;
  #refused = 0;
  #closing = false;

  private constructor(options: StreamServerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'config-stream' });
    const settings = { maxConcurrentStreams: MAX_STREAMS_PER_CONNECTION, enablePush: false };
    this.#server = options.tls === undefined ? createServer({ settings }) : createSecureServer({ ...options.tls, settings, allowHTTP1: false });
    this.#server.on('stream', (stream, headers) => this.#onStream(stream, headers));
    this.#server.on('session', (session) => this.#onSession(session));
    this.#server.on('sessionError', (err) => this.#log.debug({ err: err.message }, 'config stream connection failed'));
    this.#server.on('error', (err) => this.#log.error({ err }, 'config stream server error'));
    this.#handlers = {
      hello: (s, hello) => this.#onHello(s, hello),
      ack: (s, version) => this.#o.backend.acked(this.#info(s), version),
      nack: (s, version, error) => {
        this.#log.warn({ workload: s.hello?.workload, namespace: s.hello?.namespace, version }, `proxy refused a snapshot (NACK): ${error}`);
        this.#o.backend.nacked(this.#info(s), version, error);
      },
      closed: (s) => this.#onClosed(s),
      refused: (s, err) => {
        this.#refused++;
        if (err.code === 'WEFT_ERR_STREAM_INTERNAL') this.#log.error({ err }, 'config stream failed');
        const level = this.#closing ? 'debug' : 'warn';
        this.#log[level]({ code: err.code, remote: s.remoteAddress, workload: s.hello?.workload, namespace: s.hello?.namespace }, `config stream closed: ${err.message}`);
      },
    };
  }

  /** Binds and resolves once listening. */
  static async start(options: StreamServerOptions): Promise<StreamServer> {
    const s = new StreamServer(options);
    const host = options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      s.#server.once('error', reject);
      s.#server.listen(options.port ?? 7701, host, () => {
        s.#server.off('error', reject);
        resolve();
      });
    });
    s.#port = (s.#server.address() as AddressInfo).port;
    s.#log.info({ host, port: s.#port, tls: options.tls !== undefined }, 'config stream listening');
    return s;
  }

  /** The port it listens on. */
  get port(): number {
    return this.#port;
  }

  /**
   * Recomputes every admitted proxy's snapshot and pushes those whose version changed;
   * returns how many were pushed (or queued behind a slow reader).
   */
  refresh(): number {
    let pushed = 0;
    for (const s of this.#byWorkload.values()) {
      const hello = s.hello;
      if (hello === undefined) continue;
      try {
        if (s.push(this.#o.backend.snapshotFor(hello))) pushed++;
      } catch (err) {
        // One proxy's failure (a compiler bug) must not keep the others from their config.
        this.#log.error({ err, workload: hello.workload, namespace: hello.namespace }, 'computing a snapshot failed');
        s.refuse(internalError(err));
      }
    }
    return pushed;
  }

  /** The sync state of every admitted proxy, by namespace and workload. */
  proxies(): ProxySyncState[] {
    return [...this.#byWorkload.values()]
      .flatMap((s) => s.syncState() ?? [])
      .sort((a, b) => (a.namespace === b.namespace ? (a.workload < b.workload ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  }

  /** The hello of the connected proxy `namespace/workload`, or undefined when it is not connected. */
  helloOf(namespace: string, workload: string): Hello | undefined {
    for (const s of this.#byWorkload.values()) {
      const h = s.hello;
      if (h !== undefined && h.namespace === namespace && h.workload === workload) return h;
    }
    return undefined;
  }

  /** Counters. */
  stats(): StreamServerStats {
    let pushes = 0;
    for (const s of this.#byWorkload.values()) pushes += s.syncState()?.pushes ?? 0;
    return { proxies: this.#byWorkload.size, refused: this.#refused, pushes };
  }

  /**
   * Tells every proxy the control plane is shutting down (`WEFT_ERR_STREAM_SHUTDOWN`; they
   * keep their config and reconnect), stops listening and closes every connection.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const s of [...this.#streams]) s.refuse(new StreamError('WEFT_ERR_STREAM_SHUTDOWN', 'the control plane is shutting down'));
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    const force = setTimeout(() => {
      for (const session of this.#sessions) session.destroy();
    }, 2000);
    await closed;
    clearTimeout(force);
  }

  #onSession(session: Http2Session): void {
    this.#sessions.add(session);
    session.on('error', (err) => this.#log.debug({ err: err.message }, 'config stream connection error'));
    const every = this.#o.keepaliveMs ?? 15_000;
    let outstanding = false;
    const timer = setInterval(() => {
      if (outstanding) {
        this.#log.warn({ remote: session.socket?.remoteAddress }, `config stream connection did not answer a ping within ${every} ms; dropping it`);
        session.destroy();
        return;
      }
      outstanding = true;
      try {
        session.ping((err) => {
          if (err === null) outstanding = false;
        });
      } catch {
        // Closing already.
      }
    }, every);
    timer.unref();
    session.once('close', () => {
      clearInterval(timer);
      this.#sessions.delete(session);
    });
  }

  #onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', (err) => this.#log.debug({ err: err.message }, 'config stream error'));
    const path = headers[':path'];
    const method = headers[':method'];
    const peer = peerIdentityOf(stream);
    const route = path === undefined ? undefined : this.#o.routes?.get(path);
    if (route !== undefined && !this.#closing) {
      route(stream, headers, peer);
      return;
    }
    if (path !== CONFIG_STREAM_PATH || method !== 'POST' || this.#closing) {
      const status = this.#closing ? 503 : path !== CONFIG_STREAM_PATH ? 404 : 405;
      stream.respond({ ':status': status, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ error: status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : 'shutting_down', message: `the config stream is POST ${CONFIG_STREAM_PATH}` }));
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    const s = new ProxyStream(
      randomUUID(),
      stream,
      { helloTimeoutMs: this.#o.helloTimeoutMs ?? 10_000, maxMessageBytes: this.#o.maxMessageBytes ?? MAX_STREAM_MESSAGE_BYTES },
      this.#handlers,
    );
    this.#streams.add(s);
    this.#peers.set(s, peer);
  }

  /** Replaces the TLS material (a renewed server certificate, a new trust bundle): new connections only. */
  setTls(tls: StreamTlsOptions): void {
    if (this.#o.tls === undefined) throw new Error('the config stream was started without TLS');
    (this.#server as Http2SecureServer).setSecureContext(tls);
  }

  #info(s: ProxyStream): ProxyStreamInfo {
    const hello = s.hello;
    if (hello === undefined) throw new Error('stream has no hello');
    return { id: s.id, hello, remoteAddress: s.remoteAddress, connectedAt: s.connectedAt, peerIdentity: this.#peers.get(s) };
  }

  #onHello(s: ProxyStream, hello: Hello): void {
    const key = `${hello.namespace}/${hello.workload}`;
    // Admit first: a refusal leaves the older stream (if any) in place.
    this.#o.backend.admit(this.#info(s));
    this.#admitted.add(s);
    const previous = this.#byWorkload.get(key);
    this.#byWorkload.set(key, s);
    previous?.refuse(new StreamError('WEFT_ERR_STREAM_REPLACED', `a newer stream registered workload ${key} (from ${s.remoteAddress})`));
    this.#log.info({ workload: hello.workload, namespace: hello.namespace, service: hello.service, remote: s.remoteAddress }, 'proxy connected');
    const snapshot = this.#o.backend.snapshotFor(hello);
    const version = snapshotVersion(snapshot);
    if (hello.lastVersion === version) {
      s.markRunning(version);
      this.#o.backend.acked(this.#info(s), version);
    } else s.push(snapshot);
  }

  #onClosed(s: ProxyStream): void {
    this.#streams.delete(s);
    const hello = s.hello;
    if (hello === undefined) return;
    const key = `${hello.namespace}/${hello.workload}`;
    if (this.#byWorkload.get(key) === s) this.#byWorkload.delete(key);
    // Only a stream that was admitted is released (a refused hello never was); a replaced one too.
    if (this.#admitted.has(s)) {
      this.#log.info({ workload: hello.workload, namespace: hello.namespace }, 'proxy disconnected');
      this.#o.backend.release(this.#info(s));
    }
  }
}
