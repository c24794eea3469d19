import { createServer, type Server, type Socket } from 'node:net';
import { Server as TlsServer, TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { serviceKey, type AppProtocol, type ProxyBootstrap, type ProxySnapshot } from '@weft/api/data-plane';
import { cannotListen, type Logger } from '@weft/core';
import type { AuthzDecision } from '../authz/evaluator.js';
import { InboundAuthz } from '../authz/inbound-guard.js';
import { GlobalRateLimiter } from '../ratelimit/global-rate-limiter.js';
import { InboundRateLimits } from '../ratelimit/inbound-rate-limits.js';
import { peerIdentityOf } from '../authz/peer-identity.js';
import type { HopRef } from '../errors/proxy-error.js';
import { errorResponse } from '../errors/rescue.js';
import { Downstream, type Exchange } from '../http1/downstream.js';
import { http1Handler, type Http1Route } from '../http1/handler.js';
import { createHttp2Handler, type Http2Handler } from '../http2/handler.js';
import { resolveOutbound } from '../outbound/resolve.js';
import type { FinishedRequest } from '../telemetry/finished-request.js';
import { forwardTcp, TCP_ALPN } from '../tcp/forward.js';
import { detectProtocol } from '../transport/detect.js';
import { ConfigState } from './config-state.js';
import type { TlsMaterial, WorkloadCertificate } from '../transport/tls-config.js';

/** Where a listener sends what it accepts. */
interface ListenerRole {
  readonly name: string;
  readonly direction: 'inbound' | 'outbound';
  /** For an explicit upstream listener: the service it reaches. */
  readonly fixedService?: string;
  /** The HTTP/1.1 handler of this listener, built once. */
  readonly http1: (ex: Exchange) => void;
  readonly hop: HopRef;
}

/** Hooks for telemetry, kept off the request path's core. */
export interface ProxyHooks {
  /** A request finished (HTTP/1.1 exchange or HTTP/2 stream). */
  onExchangeEnd?: (ex: FinishedRequest, direction: 'inbound' | 'outbound') => void;
  /** A plaintext connection was refused on a STRICT mesh port. */
  onPlaintextRefused?: () => void;
  /** An inbound request was denied by authorization (it is also counted as a finished exchange). */
  onAuthzDenied?: (decision: AuthzDecision) => void;
}

/** The ports a running proxy listens on. */
export interface ProxyPorts {
  readonly inbound: number | undefined;
  readonly upstreams: Readonly<Record<string, number>>;
  readonly httpProxy: number | undefined;
}

const listen = (server: Server, host: string, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, backlog: 1024 }, () => {
      server.removeListener('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });

/**
 * The data plane of one sidecar: its listeners, the current config, and the connections
 * they accepted. Config swaps are atomic (a new ConfigState replaces the old whole); a
 * drain stops accepting and lets work in flight finish.
 */
export class Proxy {
  readonly bootstrap: ProxyBootstrap;
  readonly #logger: Logger;
  readonly #hooks: ProxyHooks;
  readonly #servers: Server[] = [];
  readonly #downstreams = new Set<Downstream>();
  readonly #sockets = new Set<Socket>();
  #config: ConfigState;
  #ports: ProxyPorts = { inbound: undefined, upstreams: {}, httpProxy: undefined };
  #sweeper: NodeJS.Timeout | undefined;
  #draining = false;
  #workload: WorkloadCertificate | undefined;
  readonly #acceptors = new WeakMap<TlsMaterial, TlsServer>();
  readonly #h2: Http2Handler;
  readonly #self: string;
  readonly #authz: InboundAuthz;
  readonly #rateLimits: InboundRateLimits;
  readonly #sharedBuckets = new GlobalRateLimiter();

  private constructor(bootstrap: ProxyBootstrap, snapshot: ProxySnapshot, logger: Logger, hooks: ProxyHooks, workload: WorkloadCertificate | undefined) {
    this.bootstrap = bootstrap;
    this.#logger = logger;
    this.#hooks = hooks;
    this.#self = serviceKey(bootstrap.service, bootstrap.namespace);
    this.#workload = workload;
    this.#config = new ConfigState(snapshot, bootstrap, undefined, workload);
    this.#authz = new InboundAuthz({
      proxy: this.#self,
      logger: logger.child({ component: 'authz' }),
      ...(hooks.onAuthzDenied === undefined ? {} : { onDenied: hooks.onAuthzDenied }),
    });
    this.#rateLimits = new InboundRateLimits({ proxy: this.#self, shared: this.#sharedBuckets });
    this.#h2 = createHttp2Handler({
      proxy: this.#self,
      bootstrap,
      config: () => this.#config,
      authz: this.#authz,
      rateLimits: this.#rateLimits,
      ...(hooks.onExchangeEnd === undefined ? {} : { onStreamEnd: hooks.onExchangeEnd }),
    });
  }

  /** Starts listening with `snapshot` as the first config. Throws if it is unusable. */
  static async start(
    bootstrap: ProxyBootstrap,
    snapshot: ProxySnapshot,
    logger: Logger,
    hooks: ProxyHooks = {},
    workload?: WorkloadCertificate,
  ): Promise<Proxy> {
    const proxy = new Proxy(bootstrap, snapshot, logger, hooks, workload);
    try {
      await proxy.#listenAll();
    } catch (err) {
      await proxy.close();
      throw err;
    }
    proxy.#sweeper = setInterval(() => proxy.#sweep(), 250).unref();
    return proxy;
  }

  get ports(): ProxyPorts {
    return this.#ports;
  }

  /** HTTP/2 sessions open now: accepted from clients, and to endpoints and the app. */
  get http2Sessions(): { readonly accepted: number; readonly upstream: number } {
    return { accepted: this.#h2.sessions, upstream: this.#h2.upstreamSessions };
  }

  /** The config the proxy runs now. */
  get config(): ConfigState {
    return this.#config;
  }

  /** Swaps in a new snapshot; throws (keeping the current config) if it cannot be loaded. */
  apply(snapshot: ProxySnapshot): void {
    const previous = this.#config;
    const next = new ConfigState(snapshot, this.bootstrap, previous, this.#workload);
    this.#config = next;
    previous.retire(next);
    this.#logger.info({ version: next.version }, 'config applied');
  }

  /**
   * Swaps in a renewed workload certificate: new connections present it; connections open
   * now keep theirs until they close (their requests are not disturbed).
   */
  setWorkloadCertificate(workload: WorkloadCertificate): void {
    this.#workload = workload;
    this.apply(this.#config.snapshot);
  }

  async #listenAll(): Promise<void> {
    const b = this.bootstrap;
    const inbound: number | undefined =
      b.appPort === undefined && b.port === 0
        ? undefined
        : await this.#listen(b.listenHost, b.port, ['--port', `${b.listenHost}:${b.port}`], this.#role('inbound', 'inbound'), (socket, role) =>
            this.#acceptInbound(socket, role),
          );
    const upstreams: Record<string, number> = {};
    for (const u of b.upstreams) {
      const key = u.service.includes('.') ? u.service : serviceKey(u.service, b.namespace);
      upstreams[u.service] = await this.#listen('127.0.0.1', u.port, ['--upstream', `${u.service}:${u.port}`], this.#role(`upstream ${key}`, 'outbound', key), (socket, role) =>
        this.#acceptOutbound(socket, role),
      );
    }
    const httpProxy =
      b.httpProxyPort === undefined
        ? undefined
        : await this.#listen('127.0.0.1', b.httpProxyPort, ['--http-proxy-port', String(b.httpProxyPort)], this.#role('http-proxy', 'outbound'), (socket, role) =>
            this.#acceptOutbound(socket, role),
          );
    this.#ports = { inbound, upstreams, httpProxy };
  }

  #role(name: string, direction: 'inbound' | 'outbound', fixedService?: string): ListenerRole {
    const route: Http1Route = {
      direction,
      proxy: this.#self,
      ...(fixedService === undefined ? {} : { fixedService }),
      config: () => this.#config,
      responseTimeoutMs: () => this.#config.snapshot.limits.responseTimeoutMs,
      ...(direction === 'inbound' ? { authz: this.#authz, rateLimits: this.#rateLimits } : {}),
    };
    return {
      name,
      direction,
      ...(fixedService === undefined ? {} : { fixedService }),
      http1: http1Handler(route),
      hop: { direction, proxy: this.#self, ...(fixedService === undefined ? {} : { service: fixedService }) },
    };
  }

  /** Opens one listener; `flag` names the command-line flag and value that chose it, for the error when it cannot. */
  async #listen(
    host: string,
    port: number,
    flag: readonly [name: string, value: string],
    role: ListenerRole,
    accept: (s: Socket, r: ListenerRole) => void,
  ): Promise<number> {
    const server = createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
      if (this.#draining) {
        socket.destroy();
        return;
      }
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      accept(socket, role);
    });
    this.#servers.push(server);
    return listen(server, host, port).catch((err: unknown) => {
      throw cannotListen(flag[0], flag[1], err);
    });
  }

  #acceptInbound(socket: Socket, role: ListenerRole): void {
    const appProtocol = this.bootstrap.appProtocol;
    const limits = this.#config.snapshot.limits;
    if (appProtocol === 'tcp' && this.#config.tls === undefined) {
      this.#forwardToApp(socket);
      return;
    }
    detectProtocol(socket, limits.detectTimeoutMs, (kind) => {
      if (kind === 'tls') {
        const tls = this.#config.tls;
        if (tls === undefined) {
          socket.destroy();
          return;
        }
        this.#acceptorFor(tls, role).emit('connection', socket);
        return;
      }
      if (this.#config.tls !== undefined && this.#config.snapshot.transport.mtlsMode === 'STRICT') {
        this.#refusePlaintext(socket, kind, role);
        return;
      }
      if (appProtocol === 'tcp') this.#forwardToApp(socket);
      else this.#serveHttp(socket, kind, role);
    });
  }

  /**
   * Plaintext on a STRICT mesh port: a plaintext HTTP/1.1 client is told why in one 403
   * (read by no one else: the request is never parsed, let alone forwarded); anything else
   * is closed. Counted, and logged at debug (a scanner must not flood the log).
   */
  #refusePlaintext(socket: Socket, kind: 'http1' | 'http2', role: ListenerRole): void {
    this.#hooks.onPlaintextRefused?.();
    this.#logger.debug({ remote: socket.remoteAddress, kind }, 'plaintext refused on the mesh port (mTLS STRICT)');
    if (kind !== 'http1') {
      socket.destroy();
      return;
    }
    const r = errorResponse('WEFT_ERR_PEER_MTLS_REQUIRED', 'this mesh port accepts only mutual TLS (Mesh mtls.mode STRICT)', role.hop);
    socket.end(
      `HTTP/1.1 ${r.status} Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\nx-weft-error: ${r.header}\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\nconnection: close\r\n\r\n${r.body}`,
    );
  }

  /**
   * The TLS server (never listening) that takes the inbound mesh connections of one TLS
   * material: tls.Server enforces `rejectUnauthorized` (a TLSSocket made by hand would not:
   * a client certificate that fails verification would get through). Connections are fed
   * to it after protocol detection; one is made per material, so a renewal or a new trust
   * bundle applies to new connections while open ones keep theirs.
   */
  #acceptorFor(tls: TlsMaterial, role: ListenerRole): TlsServer {
    let server = this.#acceptors.get(tls);
    if (server === undefined) {
      const appProtocol = this.bootstrap.appProtocol;
      server = new TlsServer({ ...tls.serverOptions, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2', 'http/1.1', TCP_ALPN] });
      server.on('secureConnection', (secure: TLSSocket) => {
        secure.on('error', () => secure.destroy());
        const alpn = secure.alpnProtocol;
        if (appProtocol === 'tcp' || alpn === TCP_ALPN) this.#forwardToApp(secure);
        else this.#serveHttp(secure, alpn === 'h2' ? 'http2' : 'http1', role);
      });
      server.on('tlsClientError', (err: Error, secure: TLSSocket) => {
        this.#logger.info({ remote: secure.remoteAddress, reason: err.message }, 'mesh connection refused in the TLS handshake');
        secure.destroy();
      });
      this.#acceptors.set(tls, server);
    }
    return server;
  }

  #acceptOutbound(socket: Socket, role: ListenerRole): void {
    const protocol: AppProtocol | undefined =
      role.fixedService === undefined ? undefined : this.#config.table.byKey(role.fixedService)?.defaultProtocol;
    if (protocol === 'tcp' && role.fixedService !== undefined) {
      this.#forwardTcpOutbound(socket, role.fixedService);
      return;
    }
    detectProtocol(socket, this.#config.snapshot.limits.detectTimeoutMs, (kind) =>
      this.#serveHttp(socket, kind === 'http2' ? 'http2' : 'http1', role),
    );
  }

  #serveHttp(socket: Socket, kind: 'http1' | 'http2', role: ListenerRole): void {
    // Who called, from the mTLS certificate, once per connection: inbound authorization reads it.
    const peer = role.direction === 'inbound' && socket instanceof TLSSocket ? peerIdentityOf(socket) : undefined;
    if (kind === 'http2') {
      this.#h2(socket, { direction: role.direction, ...(role.fixedService === undefined ? {} : { fixedService: role.fixedService }) }, peer);
      return;
    }
    const limits = this.#config.snapshot.limits;
    const onEnd = this.#hooks.onExchangeEnd;
    const conn = new Downstream(
      socket,
      {
        maxHeaderBytes: limits.maxRequestHeadersBytes,
        maxBodyBytes: limits.maxRequestBodyBytes,
        handle: role.http1,
        hop: role.hop,
        ...(peer === undefined ? {} : { peer }),
        ...(onEnd === undefined ? {} : { onExchangeEnd: (ex: Exchange) => onEnd(ex, role.direction) }),
      },
      (c) => this.#downstreams.delete(c),
    );
    this.#downstreams.add(conn);
    if (this.#draining) conn.drain();
    socket.resume();
  }

  #forwardToApp(socket: Socket): void {
    const b = this.bootstrap;
    if (b.appPort === undefined) {
      socket.destroy();
      return;
    }
    forwardTcp(
      socket,
      { key: `app|${b.appHost}:${b.appPort}`, host: b.appHost, port: b.appPort, connectTimeoutMs: this.#config.snapshot.limits.connectTimeoutMs },
      (err) => this.#logger.warn({ err: err.message, hop: 'inbound', endpoint: 'app' }, 'tcp connect to app failed (UF)'),
    );
  }

  #forwardTcpOutbound(socket: Socket, service: string): void {
    const config = this.#config;
    let resolved;
    try {
      resolved = resolveOutbound(config.table, this.#self, service, '', '/');
    } catch (err) {
      this.#logger.warn({ err: (err as Error).message, service }, 'tcp connection refused');
      socket.destroy();
      return;
    }
    const tls = config.tls;
    forwardTcp(
      socket,
      {
        key: resolved.endpoint.connectKey,
        host: resolved.endpoint.address,
        port: resolved.endpoint.port,
        connectTimeoutMs: config.snapshot.limits.connectTimeoutMs,
        ...(tls === undefined ? {} : { tls: { context: tls.client, verifyPeer: tls.verifyPeer(resolved.endpoint.identity) } }),
      },
      (err) => this.#logger.warn({ err: err.message, ...resolved.hop }, 'tcp connect failed (UF)'),
    );
  }

  /** Closes connections whose client stalled mid-head or idled past the limits. */
  #sweep(): void {
    const now = performance.now();
    const limits = this.#config.snapshot.limits;
    for (const c of this.#downstreams) {
      if (c.headStartedAt > 0 && now - c.headStartedAt > limits.headersTimeoutMs) c.timeoutHead();
      else if (c.idleSince > 0 && c.idle && now - c.idleSince > limits.idleTimeoutMs) c.destroy();
    }
  }

  /** True while the proxy is draining (no new connections or requests are taken). */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Graceful shutdown: stop accepting, let requests in flight finish (keep-alive
   * connections close after their current response), and after `timeoutMs` close what is
   * left. Resolves when every connection is gone.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    for (const s of this.#servers) s.close();
    for (const c of this.#downstreams) c.drain();
    void this.#h2.drain();
    const deadline = performance.now() + timeoutMs;
    while (this.#sockets.size > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    await this.close();
  }

  /** Closes everything now. */
  async close(): Promise<void> {
    this.#draining = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    for (const s of this.#sockets) s.destroy();
    this.#h2.close();
    this.#sharedBuckets.close();
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.#config.retire(undefined);
  }
}
