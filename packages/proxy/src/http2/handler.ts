import { Agent } from 'node:http';
import {
  createServer as createHttp2Server,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Limits, ProxyBootstrap } from '@weft/api/data-plane';
import { readH2Header } from '../authz/header-readers.js';
import type { InboundAuthz } from '../authz/inbound-guard.js';
import type { InboundRateLimits } from '../ratelimit/inbound-rate-limits.js';
import { afterRateLimit } from '../ratelimit/verdict.js';
import { interceptFault } from '../faults/inject.js';
import type { PeerIdentity } from '../authz/peer-identity.js';
import { ProxyError, upstreamSocketErrorCode, type HopRef } from '../errors/proxy-error.js';
import { answerHttp2Redirect, prepareHttp2Forward, type Http2Forwarding } from '../filters/http2-forward.js';
import { routeOutbound } from '../outbound/resolve.js';
import { Http2RouteRequest } from '../routing/route-request.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { connectKey, endpointKey } from '../routing/endpoint-picker.js';
import type { ConfigState } from '../runtime/config-state.js';
import type { ConnectTarget } from '../transport/connect.js';
import type { FinishedRequest } from '../telemetry/finished-request.js';
import { H2Exchange } from './exchange.js';
import { forwardRequestHeaders, headBytes } from './headers.js';
import { forwardToHttp1 } from './http1-bridge.js';
import { relayStream } from './relay.js';
import { Http2SessionPool } from './session-pool.js';
import { AttemptRun, type RunClient } from '../destination/attempt-run.js';
import type { AttemptOutcome } from '../resilience/attempt-outcome.js';
import { ReplayBuffer } from '../resilience/replay-buffer.js';
import type { OutboundDecision } from '../outbound/resolve.js';

type ForwardDecision = Extract<OutboundDecision, { kind: 'forward' }>;

const CONNECT_FAILURE: AttemptOutcome = { kind: 'connect-failure' };
const REFUSED_STREAM: AttemptOutcome = { kind: 'refused-stream' };

/** The body tap of a route's mirrors, with the retry copy recorded alongside. */
const teeTap = (
  tap: { write(chunk: Buffer): void; end(): void } | undefined,
  replay: ReplayBuffer,
): { write(chunk: Buffer): void; end(): void } => ({
  write: (chunk) => {
    replay.push(chunk);
    tap?.write(chunk);
  },
  end: () => {
    replay.end();
    tap?.end();
  },
});

/** Streams one client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const MAX_CONCURRENT_STREAMS = 1000;
/** Memory one HTTP/2 session may hold (headers, queued frames, buffered data), in megabytes. */
export const MAX_SESSION_MEMORY_MB = 32;

/** What the HTTP/2 handler needs from the proxy it serves. */
export interface Http2HandlerDeps {
  /** `name.namespace` of this sidecar's own service. */
  readonly proxy: string;
  readonly bootstrap: ProxyBootstrap;
  /** The current config; read once per stream. */
  readonly config: () => ConfigState;
  /** Called when a stream closed, for telemetry. */
  readonly onStreamEnd?: (ex: FinishedRequest, direction: 'inbound' | 'outbound') => void;
  /** Inbound authorization, checked before a stream goes to the app. */
  readonly authz?: InboundAuthz;
  /** Inbound rate limits, checked after authorization. */
  readonly rateLimits?: InboundRateLimits;
}

/** Where a listener sends the streams of a connection it accepted. */
export interface Http2Role {
  readonly direction: 'inbound' | 'outbound';
  /** For an explicit upstream listener: the service (`name.namespace`) it reaches. */
  readonly fixedService?: string;
}

/** Serves accepted connections as HTTP/2; see {@link createHttp2Handler}. */
export interface Http2Handler {
  /**
   * Serves `socket` (h2c prior knowledge, or TLS that negotiated `h2`) as an HTTP/2 server
   * connection; `peer` is the caller's identity from its certificate (inbound mTLS).
   */
  (socket: Socket, role: Http2Role, peer?: PeerIdentity): void;
  /**
   * Sends GOAWAY on every server connection (and on any accepted after), so clients open
   * no new streams; resolves when the streams in flight have finished and the connections
   * closed.
   */
  drain(): Promise<void>;
  /** Destroys every connection, server and upstream, now. */
  close(): void;
  /** Server connections open now. */
  readonly sessions: number;
  /** Upstream sessions open now: to other proxies, and to the local application. */
  readonly upstreamSessions: number;
}

/** A config's transport as the session pool tells generations apart: TLS material and connect timeout. */
interface ConfigView {
  readonly generation: string;
  readonly targets: Map<string, ConnectTarget>;
}

/**
 * The HTTP/2 side of a proxy: each accepted connection becomes a server session (Node's
 * core `http2` API, one session per connection), each stream on it is forwarded:
 * - outbound: resolved (service by listener or `:authority`, route by `:path`, backend,
 *   endpoint) and sent on the endpoint's multiplexed session, TLS when the config has it;
 * - inbound: to the local application, over h2c when it speaks `http2` or `grpc`, or
 *   translated to HTTP/1.1 when it speaks `http`.
 * Bodies and trailers stream through; resets pass both ways; failures before a response
 * become responses through `errorResponse`.
 */
export const createHttp2Handler = (deps: Http2HandlerDeps): Http2Handler => {
  const servers = new Map<string, Http2Server>();
  const sessions = new Set<ServerHttp2Session>();
  const idleTimeoutMs = (): number => deps.config().snapshot.limits.idleTimeoutMs;
  const mesh = new Http2SessionPool({ maxSessionMemoryMb: MAX_SESSION_MEMORY_MB, idleTimeoutMs });
  const app = new Http2SessionPool({ maxSessionMemoryMb: MAX_SESSION_MEMORY_MB, idleTimeoutMs });
  const views = new WeakMap<ConfigState, ConfigView>();
  let appAgent: Agent | undefined;
  let draining = false;
  let seen: ConfigState | undefined;

  const viewOf = (config: ConfigState): ConfigView => {
    let v = views.get(config);
    if (v === undefined) {
      v = {
        generation: `${JSON.stringify(config.snapshot.transport)}|${config.snapshot.limits.connectTimeoutMs}`,
        targets: new Map(),
      };
      views.set(config, v);
    }
    return v;
  };

  /** After a config swap, sessions to endpoints that left it drain and close. */
  const noticeConfig = (): void => {
    const config = deps.config();
    if (config === seen) return;
    seen = config;
    const live = new Set<string>();
    for (const list of Object.values(config.snapshot.endpoints)) for (const e of list) live.add(connectKey(endpointKey(e.address, e.port), e.identity));
    mesh.retainOnly(live);
  };
  const watcher = setInterval(noticeConfig, 1000);
  watcher.unref();

  const endpointTarget = (config: ConfigState, view: ConfigView, endpoint: EndpointRef): ConnectTarget => {
    let t = view.targets.get(endpoint.key);
    if (t === undefined) {
      const tls = config.tls;
      t = {
        key: endpoint.connectKey,
        host: endpoint.address,
        port: endpoint.port,
        connectTimeoutMs: config.snapshot.limits.connectTimeoutMs,
        ...(tls === undefined ? {} : { tls: { context: tls.client, verifyPeer: tls.verifyPeer(endpoint.identity) } }),
      };
      view.targets.set(endpoint.key, t);
    }
    return t;
  };

  /**
   * Sends the exchange on a session of `pool`; once more on a fresh one if it was refused
   * unprocessed. `filtered`: the upstream headers and relay hooks of a route with filters.
   */
  const sendH2 = (ex: H2Exchange, pool: Http2SessionPool, target: ConnectTarget, generation: string, limits: Limits, retried: boolean, filtered?: Http2Forwarding): void => {
    pool.acquire(target, generation, (err, session) => {
      if (ex.closed) return;
      if (err !== undefined || session === undefined) {
        ex.fail(new ProxyError(upstreamSocketErrorCode(err, false), err?.message ?? 'connect failed', ex.hop, { cause: err }));
        return;
      }
      const again = (): void => sendH2(ex, pool, target, generation, limits, true, filtered);
      let up: ClientHttp2Stream;
      try {
        up = request(session, ex, filtered?.headers);
      } catch (e) {
        // A session that went away between acquire and request: one more try on a new one.
        pool.discard(target.key, session);
        if (!retried && (session.closed || session.destroyed)) again();
        else ex.fail(new ProxyError('WEFT_ERR_PROXY_UPSTREAM_RESET', (e as Error).message, ex.hop, { cause: e }));
        return;
      }
      relayStream(ex, up, {
        responseTimeoutMs: limits.responseTimeoutMs,
        retry: retried || ex.hasBody ? undefined : again,
        editResponseHeaders: filtered?.editResponseHeaders,
        tapRequestBody: filtered?.tapRequestBody,
        attempt: undefined,
        replayBody: undefined,
        onRequestTrailers: undefined,
      });
    });
  };

  /**
   * Sends an outbound stream under its destination's policies (see AttemptRun): each
   * attempt on a session to the endpoint picked for it; a retry replays the kept body.
   */
  const sendOutbound = (ex: H2Exchange, config: ConfigState, decision: ForwardDecision, filtered: Http2Forwarding | undefined): void => {
    const run = AttemptRun.start(decision);
    if (run === undefined) {
      ex.fail(AttemptRun.overflowError(decision));
      return;
    }
    const view = viewOf(config);
    const client: RunClient = {
      closed: () => ex.closed,
      fail: (e) => ex.fail(e),
      onAbort: (fn) => ex.onCancel(fn === undefined ? undefined : () => fn()),
      flag: (f) => {
        ex.flag = f;
      },
    };
    const max = decision.route.maxReplayBodyBytes;
    const length = Number(ex.headers['content-length'] ?? 0);
    const replay = run.retries && ex.hasBody && !(length > max) ? new ReplayBuffer(max) : undefined;
    let trailers: IncomingHttpHeaders | undefined;
    /** Whether the client's body went to an attempt: from then on only the kept copy can be sent. */
    let bodyUsed = false;
    let refusedOnce = false;
    const bodyReplayable = (): boolean => !ex.hasBody || !bodyUsed || replay?.replayable === true;
    const retryAfter = (delayMs: number): void => run.after(delayMs, send, client);
    function send(): void {
      const attempt = run?.next(client);
      if (attempt === undefined) return;
      ex.hop = attempt.hop;
      mesh.acquire(endpointTarget(config, view, attempt.endpoint), view.generation, (err, session) => {
        if (ex.closed) {
          attempt.finished();
          return;
        }
        if (err !== undefined || session === undefined) {
          const e = new ProxyError(upstreamSocketErrorCode(err, false), err?.message ?? 'connect failed', attempt.hop, { cause: err });
          const v = attempt.failed(CONNECT_FAILURE, e, bodyReplayable());
          if (v.retry) retryAfter(v.delayMs);
          else ex.fail(v.error ?? e);
          return;
        }
        let up: ClientHttp2Stream;
        try {
          up = request(session, ex, filtered?.headers);
        } catch (e) {
          // A session that went away between acquire and request: one more try on a new one.
          mesh.discard(endpointTarget(config, view, attempt.endpoint).key, session);
          if (!refusedOnce && (session.closed || session.destroyed)) {
            refusedOnce = true;
            attempt.abandon();
            send();
            return;
          }
          const error = new ProxyError('WEFT_ERR_PROXY_UPSTREAM_RESET', (e as Error).message, attempt.hop, { cause: e });
          const v = attempt.failed(REFUSED_STREAM, error, bodyReplayable());
          if (v.retry) retryAfter(v.delayMs);
          else ex.fail(v.error ?? error);
          return;
        }
        const firstBody = !bodyUsed;
        if (ex.hasBody) bodyUsed = true;
        // The first attempt streams the client's body (copied for a retry when the rule
        // retries); a retry writes the copy.
        const keeping = firstBody && replay !== undefined;
        relayStream(ex, up, {
          responseTimeoutMs: attempt.timeoutMs,
          retry: undefined,
          editResponseHeaders: filtered?.editResponseHeaders,
          tapRequestBody: !firstBody ? undefined : keeping ? teeTap(filtered?.tapRequestBody, replay) : filtered?.tapRequestBody,
          onRequestTrailers: keeping
            ? (t: IncomingHttpHeaders) => {
                trailers = t;
              }
            : undefined,
          replayBody: firstBody ? undefined : { chunks: replay?.chunks() ?? [], trailers },
          attempt: {
            responded: (status, grpcStatus) => {
              const v = attempt.responded(status, grpcStatus, bodyReplayable());
              if (v.retry) retryAfter(v.delayMs);
              return !v.retry;
            },
            finished: () => attempt.finished(),
            failed: (outcome, error) => {
              // A stream refused before any processing goes once more, as it always may.
              if (outcome.kind === 'refused-stream' && !refusedOnce && !ex.hasBody) {
                refusedOnce = true;
                attempt.abandon();
                send();
                return true;
              }
              const v = attempt.failed(outcome, error, bodyReplayable());
              if (!v.retry) return v.error ?? error;
              retryAfter(v.delayMs);
              return true;
            },
          },
        });
      });
    }
    send();
  };

  const outbound = (ex: H2Exchange, config: ConfigState, role: Http2Role): void => {
    const routeReq = new Http2RouteRequest(ex.method, ex.path, ex.headers, ex.grpc);
    const source = ex.down.session?.socket?.remoteAddress ?? '';
    const decision = routeOutbound(config.table, deps.proxy, role.fixedService, ex.authority, routeReq, source);
    ex.hop = decision.hop;
    ex.target = decision.service;
    if (interceptFault(ex, () => ex.closed, config.snapshot, decision, routeReq, () => outbound(ex, config, role))) return;
    if (decision.kind === 'redirect') {
      answerHttp2Redirect(ex, decision);
      return;
    }
    const view = viewOf(config);
    const filtered =
      decision.plan === undefined && decision.setCookie === undefined
        ? undefined
        : prepareHttp2Forward(ex, decision, (endpoint, done) => mesh.acquire(endpointTarget(config, view, endpoint), view.generation, done));
    sendOutbound(ex, config, decision, filtered);
  };

  const inbound = (ex: H2Exchange, config: ConfigState, peer: PeerIdentity | undefined): void => {
    const denied = deps.authz?.check(config.snapshot.inbound.authorization, ex.method, ex.path, peer, ex.headers, readH2Header);
    if (denied !== undefined) {
      ex.fail(denied);
      return;
    }
    const limited = deps.rateLimits?.check(config.snapshot.inbound.rateLimits, peer, ex.down.session?.socket?.remoteAddress ?? '', ex.method, ex.path, ex.headers, readH2Header);
    afterRateLimit(limited, () => ex.closed, () => toApp(ex, config), (e) => ex.fail(e));
  };

  const toApp = (ex: H2Exchange, config: ConfigState): void => {
    const b = deps.bootstrap;
    if (b.appPort === undefined) {
      ex.fail(new ProxyError('WEFT_ERR_PROXY_NO_ROUTE', 'this proxy has no local application (--app-port)', ex.hop));
      return;
    }
    const limits = config.snapshot.limits;
    if (b.appProtocol === 'http') {
      appAgent ??= new Agent({ keepAlive: true, maxSockets: limits.maxConnectionsPerEndpoint, scheduling: 'lifo' });
      forwardToHttp1(ex, {
        host: b.appHost,
        port: b.appPort,
        agent: appAgent,
        connectTimeoutMs: limits.connectTimeoutMs,
        responseTimeoutMs: limits.responseTimeoutMs,
      });
      return;
    }
    const target: ConnectTarget = {
      key: `app|${endpointKey(b.appHost, b.appPort)}`,
      host: b.appHost,
      port: b.appPort,
      connectTimeoutMs: limits.connectTimeoutMs,
    };
    sendH2(ex, app, target, 'app', limits, false);
  };

  const onStream = (down: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, role: Http2Role, peer: PeerIdentity | undefined): void => {
    noticeConfig();
    const config = deps.config();
    const hop: HopRef =
      role.direction === 'inbound'
        ? { direction: 'inbound', proxy: deps.proxy, service: deps.proxy, endpoint: 'app' }
        : { direction: 'outbound', proxy: deps.proxy, ...(role.fixedService === undefined ? {} : { service: role.fixedService }) };
    const ex = new H2Exchange(down, headers, flags, hop);
    if (role.direction === 'inbound') {
      ex.peer = peer;
      ex.mutualTls = down.session?.socket instanceof TLSSocket;
    }
    const onEnd = deps.onStreamEnd;
    if (onEnd !== undefined) down.once('close', () => onEnd(ex, role.direction));
    try {
      // Node applies SETTINGS_MAX_HEADER_LIST_SIZE only once the client acknowledged it,
      // so the first streams of a connection are checked here, as HTTP/1.1 heads are.
      const limit = config.snapshot.limits.maxRequestHeadersBytes;
      if (headBytes(headers) > limit) {
        ex.fail(new ProxyError('WEFT_ERR_HTTP_HEADERS_TOO_LARGE', `request headers larger than ${limit} bytes`, hop));
        return;
      }
      if (ex.method === 'CONNECT') {
        ex.fail(new ProxyError('WEFT_ERR_HTTP_BAD_REQUEST', 'CONNECT is not supported over HTTP/2', hop));
        return;
      }
      if (role.direction === 'inbound') inbound(ex, config, peer);
      else outbound(ex, config, role);
    } catch (err) {
      ex.fail(err);
    }
  };

  const serverFor = (role: Http2Role, limits: Limits): Http2Server => {
    const key = `${role.direction}|${role.fixedService ?? ''}|${limits.maxRequestHeadersBytes}`;
    let server = servers.get(key);
    if (server !== undefined) return server;
    // Never listens: connections are handed to it by the proxy's own listeners.
    server = createHttp2Server({
      maxSessionMemory: MAX_SESSION_MEMORY_MB,
      settings: {
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        maxHeaderListSize: limits.maxRequestHeadersBytes,
        enablePush: false,
      },
    });
    server.on('session', (session: ServerHttp2Session) => {
      // Node makes the session within the 'connection' emit below: `accepting` is its peer.
      const peer = accepting;
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      session.on('stream', (stream: ServerHttp2Stream, h: IncomingHttpHeaders, f: number) => onStream(stream, h, f, role, peer));
      // An idle connection is closed gracefully: streams still open (a quiet gRPC stream) run on.
      session.setTimeout(limits.idleTimeoutMs, () => session.close());
      if (draining) session.close();
    });
    server.on('sessionError', noop);
    servers.set(key, server);
    return server;
  };

  /** The peer of the connection being handed to a server, read by its 'session' listener. */
  let accepting: PeerIdentity | undefined;
  const handler = (socket: Socket, role: Http2Role, peer?: PeerIdentity): void => {
    markHandshakeDone(socket);
    accepting = peer;
    try {
      serverFor(role, deps.config().snapshot.limits).emit('connection', socket);
    } finally {
      accepting = undefined;
    }
  };

  const drain = async (): Promise<void> => {
    draining = true;
    const closing = [...sessions].map(
      (s) => new Promise<void>((resolve) => (s.closed || s.destroyed ? resolve() : s.close(() => resolve()))),
    );
    await Promise.all(closing);
  };
  const close = (): void => {
    draining = true;
    clearInterval(watcher);
    for (const s of sessions) s.destroy();
    sessions.clear();
    mesh.close();
    app.close();
    appAgent?.destroy();
    appAgent = undefined;
  };
  return Object.defineProperties(handler, {
    drain: { value: drain },
    close: { value: close },
    sessions: { get: () => sessions.size },
    upstreamSessions: { get: () => mesh.size + app.size },
  }) as Http2Handler;
};

/**
 * A server-side TLSSocket made by hand keeps `secureConnecting` true after its handshake:
 * only `tls.Server` clears it, and an HTTP/2 session given such a socket would wait for a
 * 'secureConnect' that never comes. The mesh port takes TLS through a `tls.Server` (see
 * Proxy), so this only guards a socket handed over some other way.
 */
const markHandshakeDone = (socket: Socket): void => {
  if (!(socket instanceof TLSSocket)) return;
  const s = socket as TLSSocket & { secureConnecting?: boolean };
  if (s.secureConnecting === true && typeof socket.alpnProtocol === 'string') s.secureConnecting = false;
};

/** Opens the upstream stream for an exchange on `session`. Throws if the session cannot take it. */
const request = (session: ClientHttp2Session, ex: H2Exchange, headers: OutgoingHttpHeaders | undefined): ClientHttp2Stream =>
  session.request(headers === undefined ? forwardRequestHeaders(ex.headers) : { ...headers }, { endStream: !ex.hasBody, waitForTrailers: ex.hasBody });

const noop = (): void => {};
