import type { Socket } from 'node:net';
import type { ErrorCode } from '@weft/api/data-plane';
import { ProxyError, upstreamSocketErrorCode, type HopRef } from '../errors/proxy-error.js';
import type { AttemptOutcome } from '../resilience/attempt-outcome.js';
import type { BreakerLease, CircuitBreaker } from '../resilience/circuit-breaker.js';
import { dial, type ConnectTarget } from '../transport/connect.js';
import type { BodySink, Exchange } from './downstream.js';
import { appendEndToEnd, lastChunk, responseHasNoBody, scanHead } from './head.js';
import { Http1Parser, isParserError, type ParsedHead, type RawHeaders } from './llhttp.js';

/**
 * What a pooled connection uses of the exchange it carries: a client's {@link Exchange}, or
 * a request the proxy makes itself (a mirror), which answers nobody.
 */
export type UpstreamExchange = Pick<
  Exchange,
  'head' | 'hasBody' | 'ended' | 'onAbort' | 'bindBody' | 'sinkDrained' | 'writeInterim' | 'writeHead' | 'writeSwitchingProtocols' | 'onClientDrain' | 'writeBody' | 'end' | 'fail'
> & { readonly downstream: { cork(): void; uncork(): void } };

/** One request ready to go upstream: its serialised head and what is needed to finish it. */
export interface UpstreamRequest {
  readonly exchange: UpstreamExchange;
  /** Request line and headers, ending in the blank line. */
  readonly head: string;
  readonly framing: 'none' | 'length' | 'chunked';
  readonly hop: HopRef;
  /** Time allowed from sending until the response head arrives; 0 for none. */
  readonly responseTimeoutMs: number;
  // The optional parts are always present (undefined when unused), so that every request
  // object has one shape and the hot path stays monomorphic.
  /** Called when the exchange took the socket over after a 101 response. */
  readonly onUpgrade: ((upstream: Socket, rest: Buffer, head: ParsedHead) => void) | undefined;
  /** Route filters: wraps the sink the request body streams to (mirrors copy it). */
  readonly teeBody: ((sink: BodySink) => BodySink) | undefined;
  /** Route filters: the final response's headers as the client gets them. */
  readonly editResponseHeaders: ((headers: RawHeaders) => RawHeaders) | undefined;
  /** Destination policies: told how the attempt ends, and may send the request again. */
  readonly attempt: AttemptHooks | undefined;
}

/**
 * What the destination policies (balancing, outlier detection, breakers, retries) learn of
 * one attempt, and how they take it over. Each attempt ends exactly once: by `failed`, or
 * by `responded` followed by `finished` (or, for a response dropped to retry, `discarded`).
 */
export interface AttemptHooks {
  /** A final response head arrived. False: drop this response, read it to its end, then call `discarded`. */
  responded(status: number, headers: RawHeaders): boolean;
  /** The response was forwarded to its end, or the client went away. */
  finished(): void;
  /** The dropped response was read to its end: the request may go again. */
  discarded(): void;
  /**
   * The attempt failed without a response (`outcome` undefined: refused locally, by a
   * breaker or a full queue). True: the hooks took it over (a retry); false: the caller
   * fails the exchange with `error`.
   */
  failed(outcome: AttemptOutcome | undefined, error: ProxyError): boolean;
}

/** A request whose client left before it was sent: its attempt ends here, nothing is sent. */
const dropped = (req: UpstreamRequest): void => req.attempt?.finished();

/** Fails `req` with `error` unless its attempt hooks take the failure over. */
const failRequest = (req: UpstreamRequest, outcome: AttemptOutcome | undefined, error: ProxyError): void => {
  if (req.attempt?.failed(outcome, error) === true) return;
  req.exchange.fail(error);
};

/** A request waiting for a connection: its `pendingRequests` unit, when it waited from, and its deadline timer. */
interface Waiting {
  readonly req: UpstreamRequest;
  readonly lease: BreakerLease | undefined;
  readonly since: number;
  timer: NodeJS.Timeout | undefined;
}

/** Limits of one endpoint's pool. */
export interface PoolLimits {
  readonly maxConnections: number;
  readonly maxPending: number;
}

/**
 * One HTTP/1.1 connection to an upstream, carrying one request at a time. It parses the
 * response with llhttp and streams it to the exchange, with backpressure both ways.
 */
class UpstreamConnection {
  readonly socket: Socket;
  readonly #pool: Http1Pool;
  readonly #parser: Http1Parser;
  #req: UpstreamRequest | undefined;
  #responseHead: ParsedHead | undefined;
  #trailers: RawHeaders | undefined;
  #requestSent = false;
  #gotBytes = false;
  /** The response of this attempt is being read and dropped (a retry follows). */
  #discard = false;
  #timer: NodeJS.Timeout | undefined;
  /** This connection's unit of the destination's `maxConnections`. */
  lease: BreakerLease | undefined;
  /** How many requests this connection carried; a reused one may have been closed by the peer. */
  uses = 0;
  #dead = false;

  constructor(socket: Socket, pool: Http1Pool) {
    this.socket = socket;
    this.#pool = pool;
    this.#parser = new Http1Parser('response', 64 * 1024, {
      onHead: (head) => this.#onHead(head),
      onBody: (chunk) => this.#onBody(chunk),
      onTrailers: (t) => {
        this.#trailers = t;
      },
      onMessageEnd: () => this.#onMessageEnd(),
    });
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (err) => this.#onGone(err));
    socket.on('close', () => this.#onGone(undefined));
    socket.on('end', () => {
      // A close-delimited body ends with the connection.
      const fin = this.#parser.finish();
      if (fin === undefined && this.#req !== undefined && this.#responseHead !== undefined) this.#onMessageEnd();
      this.socket.end();
    });
    socket.on('drain', () => {
      const ex = this.#req?.exchange;
      if (ex !== undefined) ex.sinkDrained();
    });
  }

  get busy(): boolean {
    return this.#req !== undefined;
  }

  /** Sends `req`; `timeoutMs`: what is left of its response timeout after waiting in the queue. */
  send(req: UpstreamRequest, timeoutMs = req.responseTimeoutMs): void {
    this.uses++;
    this.#req = req;
    this.#responseHead = undefined;
    this.#trailers = undefined;
    this.#requestSent = false;
    this.#gotBytes = false;
    this.#discard = false;
    const ex = req.exchange;
    ex.onAbort(() => this.#abort());
    const socket = this.socket;
    socket.cork();
    socket.write(req.head);
    if (req.framing === 'none') {
      this.#requestSent = true;
    } else {
      const chunked = req.framing === 'chunked';
      const sink: BodySink = {
        write: (chunk) => {
          if (this.#req !== req) return true;
          if (!chunked) return socket.write(chunk);
          socket.write(`${chunk.length.toString(16)}\r\n`);
          socket.write(chunk);
          return socket.write('\r\n');
        },
        end: (trailers) => {
          if (this.#req !== req) return;
          if (chunked) socket.write(lastChunk(trailers));
          this.#requestSent = true;
          if (this.#responseHead === undefined && this.#parserDone) this.#release();
        },
      };
      ex.bindBody(req.teeBody === undefined ? sink : req.teeBody(sink));
    }
    process.nextTick(uncork, socket);
    if (timeoutMs > 0) {
      this.#timer = setTimeout(() => this.#onTimeout(req), timeoutMs);
    }
  }

  #parserDone = false;

  #onData(d: Buffer): void {
    this.#gotBytes = true;
    const ex = this.#req?.exchange;
    if (ex === undefined) {
      // Bytes with no request outstanding: the peer is out of step. Never reuse it.
      this.socket.destroy();
      return;
    }
    if (this.#discard) {
      const r = this.#parser.execute(d);
      if (isParserError(r)) {
        this.#req = undefined;
        this.socket.destroy();
      }
      return;
    }
    // Everything this read produces for the client (head, body, end) leaves in one write.
    const client = ex.downstream;
    client.cork();
    const r = this.#parser.execute(d);
    client.uncork();
    if (isParserError(r)) {
      this.#fail('WEFT_ERR_PROXY_UPSTREAM_PROTOCOL', `invalid response from upstream: ${r.reason || r.code}`);
      this.socket.destroy();
      return;
    }
    const head = this.#responseHead;
    if (head !== undefined && head.upgrade && head.status === 101 && this.#req?.onUpgrade !== undefined) {
      const req = this.#req;
      this.#detachForUpgrade();
      // The tunnel is the request now: it holds its unit of the Service's maxRequests until it closes.
      if (req.attempt !== undefined) this.socket.once('close', () => req.attempt?.finished());
      req.onUpgrade?.(this.socket, d.subarray(r), head);
    }
  }

  #onHead(head: ParsedHead): boolean {
    const req = this.#req;
    if (req === undefined) return false;
    const ex = req.exchange;
    const method = ex.head.method;
    if (head.status >= 100 && head.status < 200 && head.status !== 101) {
      ex.writeInterim(head.status, head.reason, appendEndToEnd('', head.headers, scanHead(head.headers), false));
      return false;
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#responseHead = head;
    if (req.attempt !== undefined && !req.attempt.responded(head.status, head.headers)) {
      this.#discard = true;
      return responseHasNoBody(method, head.status);
    }
    const facts = scanHead(head.headers);
    if (head.status === 101) {
      // Only the upgrade handler may accept a protocol switch; headers pass as they are.
      if (req.onUpgrade === undefined) {
        this.#fail('WEFT_ERR_PROXY_UPSTREAM_PROTOCOL', 'upstream switched protocols for a request that did not ask to');
        return true;
      }
      ex.writeSwitchingProtocols(head.reason, appendEndToEnd('connection: upgrade\r\n', head.headers, facts, true));
      return true;
    }
    const noBody = responseHasNoBody(method, head.status);
    const framing = noBody ? 'none' : facts.contentLength >= 0 && !facts.chunked ? 'length' : 'chunked';
    const headers = req.editResponseHeaders === undefined ? head.headers : req.editResponseHeaders(head.headers);
    ex.writeHead(head.status, head.reason, appendEndToEnd('', headers, facts, false), framing);
    ex.onClientDrain(() => this.socket.resume());
    return noBody;
  }

  #onBody(chunk: Buffer): void {
    if (this.#discard) return;
    const ex = this.#req?.exchange;
    if (ex === undefined) return;
    if (!ex.writeBody(chunk)) this.socket.pause();
  }

  #onMessageEnd(): void {
    const req = this.#req;
    if (req === undefined || this.#responseHead === undefined) return;
    if (this.#responseHead.status === 101) return;
    const keepAlive = this.#responseHead.keepAlive;
    const discarded = this.#discard;
    if (!discarded) {
      req.exchange.onClientDrain(undefined);
      req.exchange.end(this.#trailers);
      req.attempt?.finished();
    }
    if (!keepAlive) {
      this.#req = undefined;
      this.socket.end();
      if (discarded) req.attempt?.discarded();
      return;
    }
    this.#parserDone = true;
    if (this.#requestSent) this.#release();
    else {
      // The upstream answered before the request body was sent (an early error response):
      // the connection cannot carry another request cleanly.
      this.#req = undefined;
      this.socket.destroy();
    }
    if (discarded) req.attempt?.discarded();
  }

  #release(): void {
    this.#req = undefined;
    this.#responseHead = undefined;
    this.#parserDone = false;
    if (this.socket.isPaused()) this.socket.resume();
    this.#pool.release(this);
  }

  #detachForUpgrade(): void {
    this.#req = undefined;
    this.#dead = true;
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('drain');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    this.#parser.close();
    this.#pool.forget(this);
  }

  #onTimeout(req: UpstreamRequest): void {
    this.#timer = undefined;
    if (this.#req !== req || this.#responseHead !== undefined) return;
    this.#fail('WEFT_ERR_PROXY_UPSTREAM_TIMEOUT', `no response within ${req.responseTimeoutMs} ms`, undefined, TIMEOUT);
    this.socket.destroy();
  }

  #abort(): void {
    // The client went away: the upstream request is cancelled, not left running.
    const req = this.#req;
    this.#req = undefined;
    this.socket.destroy();
    req?.attempt?.finished();
  }

  #fail(code: ErrorCode, reason: string, cause?: unknown, outcome: AttemptOutcome = RESET): void {
    const req = this.#req;
    this.#req = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (req === undefined) return;
    req.exchange.onClientDrain(undefined);
    const error = new ProxyError(code, reason, req.hop, { cause });
    if (this.#discard) {
      // The response being dropped broke off: the retry goes ahead all the same.
      req.attempt?.discarded();
      return;
    }
    if (this.#responseHead !== undefined) {
      // Part of the response went out already: nothing can be retried.
      req.attempt?.finished();
      req.exchange.fail(error);
      return;
    }
    failRequest(req, outcome, error);
  }

  #onGone(err: Error | undefined): void {
    if (this.#dead) return;
    this.#dead = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const req = this.#req;
    this.#pool.forget(this);
    try {
      this.#parser.close();
    } catch {
      /* closed already */
    }
    if (req === undefined) return;
    // A reused keep-alive connection the peer closed just as we wrote: most likely the
    // request never reached the application, so it is sent again on a fresh connection;
    // but only when repeating it is harmless (an idempotent method, RFC 9110 §9.2.2),
    // since the peer may also have read it and died before answering.
    if (!this.#gotBytes && this.uses > 1 && !req.exchange.hasBody && !req.exchange.ended && IDEMPOTENT.has(req.exchange.head.method)) {
      this.#req = undefined;
      this.#pool.dispatch(req);
      return;
    }
    const reason = err?.message ?? 'upstream closed the connection before a complete response';
    this.#fail(upstreamSocketErrorCode(err, true), reason, err);
  }

  /** Returns this connection's unit of the destination's connection limit. */
  releaseLease(): void {
    this.lease?.release();
    this.lease = undefined;
  }

  close(): void {
    if (this.#req === undefined) this.socket.end();
  }
}

const uncork = (socket: Socket): void => socket.uncork();

const RESET: AttemptOutcome = { kind: 'reset' };
const TIMEOUT: AttemptOutcome = { kind: 'timeout' };
const CONNECT_FAILURE: AttemptOutcome = { kind: 'connect-failure' };

/** Methods whose requests may be repeated without changing the outcome (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * The HTTP/1.1 connections to one endpoint: idle connections are reused most-recent first,
 * at most `maxConnections` exist, and requests beyond wait in a queue of at most
 * `maxPending`; past that they fail fast with `UO` rather than queue without bound.
 */
export class Http1Pool {
  readonly target: ConnectTarget;
  readonly #limits: PoolLimits;
  readonly #idle: UpstreamConnection[] = [];
  readonly #all = new Set<UpstreamConnection>();
  #connecting = 0;
  readonly #pending: Waiting[] = [];
  #closed = false;
  /**
   * The breaker of the Service this endpoint is reached as (DestinationPolicy
   * `connectionPool`): connections and waiting requests count against it across all of
   * the Service's endpoints, on top of this pool's own per-endpoint limits.
   */
  breaker: CircuitBreaker | undefined;

  constructor(target: ConnectTarget, limits: PoolLimits) {
    this.target = target;
    this.#limits = limits;
  }

  /** Connections open or opening. */
  get size(): number {
    return this.#all.size + this.#connecting;
  }

  /** Sends `req` on an idle connection, a new one, or queues it. */
  dispatch(req: UpstreamRequest): void {
    if (req.exchange.ended) {
      dropped(req);
      return;
    }
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      idle.send(req);
      return;
    }
    // A closed (retired) pool still carries what it is given (a retry, a queued request
    // whose connection died): release() closes the connection once the request is done.
    const breaker = this.breaker;
    if (this.size < this.#limits.maxConnections) {
      const lease = breaker?.tryAcquire('connections');
      if (lease === undefined || lease.ok) {
        this.#open(req, lease?.lease);
        return;
      }
      if (this.size === 0) {
        // Nothing of this pool will free up for it to wait on.
        this.#overflow(req, `circuit breaker: ${breaker?.limits.maxConnections} connections open to the service (maxConnections)`);
        return;
      }
    }
    if (this.#pending.length >= this.#limits.maxPending) {
      this.#overflow(req, `pool full: ${this.#limits.maxConnections} connections busy and ${this.#limits.maxPending} requests waiting`);
      return;
    }
    const waiting = breaker?.tryAcquire('pendingRequests');
    if (waiting !== undefined && !waiting.ok) {
      this.#overflow(req, `circuit breaker: ${breaker?.limits.maxPendingRequests} requests waiting for a connection to the service (maxPendingRequests)`);
      return;
    }
    const entry: Waiting = { req, lease: waiting?.lease, since: performance.now(), timer: undefined };
    // The wait counts against the request's response timeout (the route's timeouts bound the
    // whole exchange): a request still waiting when it runs out gets its 504 here.
    if (req.responseTimeoutMs > 0) entry.timer = setTimeout(() => this.#waitedTooLong(entry), req.responseTimeoutMs);
    this.#pending.push(entry);
  }

  #waitedTooLong(entry: Waiting): void {
    const i = this.#pending.indexOf(entry);
    if (i < 0) return;
    this.#pending.splice(i, 1);
    entry.lease?.release();
    const { req } = entry;
    if (req.exchange.ended) {
      dropped(req);
      return;
    }
    failRequest(
      req,
      undefined,
      new ProxyError('WEFT_ERR_PROXY_UPSTREAM_TIMEOUT', `no response within ${req.responseTimeoutMs} ms: it waited all that time for a connection to the endpoint (all ${this.#limits.maxConnections} busy, or the Service's maxConnections reached)`, req.hop),
    );
  }

  #overflow(req: UpstreamRequest, reason: string): void {
    failRequest(req, undefined, new ProxyError('WEFT_ERR_PROXY_OVERFLOW', reason, req.hop));
  }

  /** The next waiting request, its `pendingRequests` unit returned, with what is left of its response timeout. */
  #nextPending(): { req: UpstreamRequest; timeoutMs: number } | undefined {
    const entry = this.#pending.shift();
    if (entry === undefined) return undefined;
    entry.lease?.release();
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    const { req } = entry;
    // At least 1 ms: its own timer has not fired, so some time is left.
    const timeoutMs = req.responseTimeoutMs > 0 ? Math.max(1, Math.ceil(req.responseTimeoutMs - (performance.now() - entry.since))) : 0;
    return { req, timeoutMs };
  }

  #open(req: UpstreamRequest, lease: BreakerLease | undefined): void {
    this.#connecting++;
    dial(this.target, 'http/1.1', (err, socket) => {
      this.#connecting--;
      if (err !== undefined || socket === undefined) {
        lease?.release();
        const e = new ProxyError(upstreamSocketErrorCode(err, false), err?.message ?? 'connect failed', req.hop, { cause: err });
        // Requests queued behind this one would meet the same endpoint: fail them too,
        // rather than let them wait for a connection that is not coming.
        const queued: UpstreamRequest[] = [];
        for (let p = this.#nextPending(); p !== undefined; p = this.#nextPending()) queued.push(p.req);
        failRequest(req, CONNECT_FAILURE, e);
        for (const p of queued) failRequest(p, CONNECT_FAILURE, new ProxyError(e.code, e.message, p.hop, { cause: err }));
        return;
      }
      const conn = new UpstreamConnection(socket, this);
      conn.lease = lease;
      this.#all.add(conn);
      if (req.exchange.ended) {
        dropped(req);
        this.release(conn);
      } else conn.send(req);
    });
  }

  /** @internal a connection finished a request and may take another. */
  release(conn: UpstreamConnection): void {
    let next = this.#nextPending();
    while (next !== undefined && next.req.exchange.ended) {
      dropped(next.req);
      next = this.#nextPending();
    }
    if (next !== undefined) {
      conn.send(next.req, next.timeoutMs);
      return;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#idle.push(conn);
  }

  /** @internal a connection is gone. */
  forget(conn: UpstreamConnection): void {
    this.#all.delete(conn);
    conn.releaseLease();
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    // A waiting request can use the freed slot (its response timeout starts again from here:
    // a rare path, a connection that died while requests waited).
    const next = this.#nextPending();
    if (next !== undefined) this.dispatch(next.req);
  }

  /** Closes idle connections now and busy ones once their request is done. */
  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) c.close();
  }
}
