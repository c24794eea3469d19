import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '@weft/api/data-plane';
import { WeftError } from '@weft/core';
import type { PeerIdentity } from '../authz/peer-identity.js';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import { errorResponse } from '../errors/rescue.js';
import { lastChunk, REASONS, scanHead, type BodyFraming, type HeadFacts } from './head.js';
import { Http1Parser, isParserError, type ParsedHead, type ParserError, type RawHeaders } from './llhttp.js';

/** Where a request body goes once the exchange is bound to an upstream. */
export interface BodySink {
  /** Writes one decoded body chunk; false means the sink is full (it calls `sinkDrained`). */
  write(chunk: Buffer): boolean;
  /** The body ended, with trailers when it was chunked and had any. */
  end(trailers: RawHeaders | undefined): void;
}

/** What a downstream connection needs from the proxy it belongs to. */
export interface DownstreamOptions {
  readonly maxHeaderBytes: number;
  /** 0 for unlimited. */
  readonly maxBodyBytes: number;
  /** Called once per request head, in order; the handler must end the exchange eventually. */
  readonly handle: (exchange: Exchange) => void;
  /** Called when a request finished, for metrics and access logs. */
  readonly onExchangeEnd?: (exchange: Exchange) => void;
  /** The hop for errors found before any handler ran (bad requests). */
  readonly hop: HopRef;
  /** The caller's identity from its mTLS certificate (inbound); absent for plaintext. */
  readonly peer?: PeerIdentity;
}

/** Chunks buffered for a request not yet bound upstream, before the client is paused. */
const BUFFER_HIGH_WATER = 64 * 1024;

const parserErrorCode = (err: ParserError): ErrorCode => {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 'WEFT_ERR_HTTP_HEADERS_TOO_LARGE';
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return 'WEFT_ERR_HTTP_SMUGGLING';
    case 'HPE_INVALID_CONTENT_LENGTH':
      // llhttp reports Transfer-Encoding followed by Content-Length under this code.
      return /transfer-encoding/i.test(err.reason) ? 'WEFT_ERR_HTTP_SMUGGLING' : 'WEFT_ERR_HTTP_BAD_REQUEST';
    default:
      return 'WEFT_ERR_HTTP_BAD_REQUEST';
  }
};

/**
 * One request on a downstream HTTP/1.1 connection, from its head to the end of its
 * response. Request body chunks wait in a small buffer until the handler binds a sink,
 * then stream to it; the client is paused whenever the sink or the buffer is full.
 */
export class Exchange {
  readonly head: ParsedHead;
  readonly facts: HeadFacts;
  readonly startedAt = performance.now();
  readonly #conn: Downstream;
  #sink: BodySink | undefined;
  #buffered: Buffer[] | undefined;
  #bufferedBytes = 0;
  #trailers: RawHeaders | undefined;
  #onAbort: (() => void) | undefined;
  requestComplete = false;
  requestBytes = 0;
  responseBytes = 0;
  status = 0;
  /** Response flag recorded for telemetry (`-` when none). */
  flag = '-';
  responseStarted = false;
  ended = false;
  #responseFraming: BodyFraming = 'none';
  /** What the handler resolved the request to, for telemetry (a LogicalService outbound). */
  target: object | undefined;
  readonly protocol = 'http';
  readonly grpcStatus = '';
  /** Set by a handler that takes the socket over (protocol upgrade). */
  upgraded = false;
  /** The caller's identity (inbound mTLS), for telemetry. */
  get peer(): PeerIdentity | undefined {
    return this.#conn.options.peer;
  }

  /** Whether the request came over TLS (the mesh port requires client certificates). */
  get mutualTls(): boolean {
    return this.#conn.tls;
  }

  /** Whether a 100 Continue went to the client. */
  #continueSent = false;

  constructor(conn: Downstream, head: ParsedHead, facts: HeadFacts) {
    this.#conn = conn;
    this.head = head;
    this.facts = facts;
  }

  /** Whether this request carries a body at all (by its framing). */
  get hasBody(): boolean {
    return this.facts.chunked || this.facts.contentLength > 0;
  }

  /** Binds the request body to a sink; chunks received so far are written to it at once. */
  bindBody(sink: BodySink): void {
    this.#sink = sink;
    const buffered = this.#buffered;
    this.#buffered = undefined;
    this.#bufferedBytes = 0;
    let ok = true;
    if (buffered !== undefined) for (const c of buffered) ok = sink.write(c);
    if (this.requestComplete) sink.end(this.#trailers);
    else if (ok) this.#conn.resumeReading();
  }

  /** Unbinds the current sink (a failed attempt); later chunks buffer again. */
  unbindBody(): void {
    this.#sink = undefined;
  }

  /** The sink can take more after it returned false. */
  sinkDrained(): void {
    if (this.#sink !== undefined) this.#conn.resumeReading();
  }

  /** Registers the cleanup to run if the client goes away before the response ends. */
  onAbort(fn: (() => void) | undefined): void {
    this.#onAbort = fn;
  }

  /** @internal body chunk from the parser. */
  receiveBody(chunk: Buffer): void {
    this.requestBytes += chunk.length;
    if (this.ended) return;
    const max = this.#conn.options.maxBodyBytes;
    if (max > 0 && this.requestBytes > max) {
      this.#conn.rejectBody(this);
      return;
    }
    const sink = this.#sink;
    if (sink !== undefined) {
      if (!sink.write(chunk)) this.#conn.pauseReading();
      return;
    }
    (this.#buffered ??= []).push(chunk);
    this.#bufferedBytes += chunk.length;
    if (this.#bufferedBytes > BUFFER_HIGH_WATER) this.#conn.pauseReading();
  }

  /** @internal the request message ended. */
  receiveEnd(trailers: RawHeaders | undefined): void {
    this.requestComplete = true;
    this.#trailers = trailers;
    this.#sink?.end(trailers);
  }

  /** Writes an interim 1xx response (100 Continue, 103 Early Hints). */
  writeInterim(status: number, reason: string, headerBlock: string): void {
    if (this.responseStarted || this.ended) return;
    if (status === 100) this.#continueSent = true;
    this.#conn.write(`HTTP/1.1 ${status} ${reason}\r\n${headerBlock}\r\n`);
  }

  /**
   * Writes the final response head. `headerBlock` holds end-to-end header lines; this adds
   * framing and connection headers for the downstream hop.
   */
  writeHead(status: number, reason: string, headerBlock: string, framing: 'none' | 'length' | 'chunked'): void {
    if (this.responseStarted || this.ended) return;
    this.responseStarted = true;
    this.status = status;
    let fr: BodyFraming = framing;
    let connection = '';
    const http10 = this.head.versionMinor === 0 && this.head.versionMajor === 1;
    if (fr === 'chunked' && http10) {
      // HTTP/1.0 clients cannot read chunked bodies: delimit by closing instead.
      fr = 'close';
    }
    this.#responseFraming = fr;
    if (this.facts.expectContinue && !this.#continueSent && this.hasBody && !this.requestComplete) {
      // A final answer to `Expect: 100-continue` before any 100: the client may never send
      // the body it announced, so the bytes that follow cannot be framed. Close after it.
      this.#conn.closeAfterCurrent = true;
    }
    if (fr === 'close' || !this.#conn.keepAliveAfter(this)) {
      connection = 'connection: close\r\n';
      this.#conn.closeAfterCurrent = true;
    } else if (http10) connection = 'connection: keep-alive\r\n';
    const te = fr === 'chunked' ? 'transfer-encoding: chunked\r\n' : '';
    this.#conn.write(`HTTP/1.1 ${status} ${reason}\r\n${headerBlock}${te}${connection}\r\n`);
  }

  /** The client connection, so that a writer can batch several writes into one. */
  get downstream(): Downstream {
    return this.#conn;
  }

  /** Sets the function to call when the client's socket drains (upstream backpressure). */
  onClientDrain(fn: (() => void) | undefined): void {
    this.#conn.onClientDrain = fn;
  }

  /** Writes a 101 response head as the upstream sent it; the socket is taken over next. */
  writeSwitchingProtocols(reason: string, headerBlock: string): void {
    if (this.responseStarted || this.ended) return;
    this.responseStarted = true;
    this.status = 101;
    this.#conn.write(`HTTP/1.1 101 ${reason}\r\n${headerBlock}\r\n`);
  }

  /** Writes a body chunk; false when the client is slow (the caller waits for resumeUpstream). */
  writeBody(chunk: Buffer): boolean {
    if (this.ended || chunk.length === 0) return true;
    this.responseBytes += chunk.length;
    if (this.#responseFraming === 'chunked') {
      this.#conn.write(`${chunk.length.toString(16)}\r\n`);
      this.#conn.write(chunk);
      return this.#conn.write('\r\n');
    }
    return this.#conn.write(chunk);
  }

  /** Ends the response. */
  end(trailers?: RawHeaders): void {
    if (this.ended) return;
    if (this.#responseFraming === 'chunked') this.#conn.write(lastChunk(trailers));
    this.#finish();
  }

  /** Answers with a proxy-generated error response, or resets the client if too late for one. */
  fail(error: unknown): void {
    if (this.ended) return;
    const e = error instanceof WeftError ? error : undefined;
    const code: ErrorCode = e?.code ?? 'WEFT_ERR_PROXY_UPSTREAM_RESET';
    const hop = error instanceof ProxyError ? error.hop : this.#conn.options.hop;
    const reason = error instanceof Error ? error.message : String(error);
    const r = errorResponse(code, reason, hop, error instanceof ProxyError ? error.extras : undefined);
    this.flag = r.flag;
    if (this.responseStarted) {
      // Too late for a status: the only honest signal left is an aborted response.
      this.status = this.status || r.status;
      this.ended = true;
      this.#conn.destroy();
      this.#conn.exchangeEnded(this);
      return;
    }
    // A request whose body was not read to its end leaves the connection out of sync.
    if (this.hasBody && !this.requestComplete) this.#conn.closeAfterCurrent = true;
    const body = Buffer.from(r.body);
    this.writeHead(
      r.status,
      REASONS[r.status] ?? 'Error',
      `content-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nx-weft-error: ${r.header}\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}`,
      'length',
    );
    this.#conn.write(body);
    this.#finish();
  }

  /**
   * @internal The request broke a limit: cancels the upstream side (without marking the
   * exchange aborted, so that it can still answer), then answers with `failure`.
   */
  reject(failure: WeftError): void {
    if (this.ended) return;
    const cancel = this.#onAbort;
    this.#onAbort = undefined;
    this.#sink = undefined;
    cancel?.();
    this.fail(failure);
  }

  /**
   * Hands the raw client socket to the caller for an upgraded protocol. The bytes that
   * followed the request head are returned with it. The connection stops parsing.
   */
  takeOver(): { socket: Socket; rest: Buffer } {
    this.upgraded = true;
    this.ended = true;
    return this.#conn.detach();
  }

  #finish(): void {
    this.ended = true;
    this.#onAbort = undefined;
    this.#conn.exchangeEnded(this);
  }

  /** @internal the client went away. */
  abort(): void {
    if (this.ended) return;
    this.ended = true;
    this.flag = 'DC';
    const fn = this.#onAbort;
    this.#onAbort = undefined;
    fn?.();
  }
}

/**
 * A downstream HTTP/1.1 connection: parses requests with llhttp, hands each to the handler
 * in order, and writes their responses back in the same order (pipelined requests wait
 * their turn, with their bodies buffered under the same backpressure).
 */
export class Downstream {
  readonly options: DownstreamOptions;
  readonly #socket: Socket;
  readonly #parser: Http1Parser;
  readonly #queue: Exchange[] = [];
  #parsing: Exchange | undefined;
  #trailers: RawHeaders | undefined;
  #paused = false;
  #closed = false;
  #draining = false;
  /** Set when the connection must close once the current response is written. */
  closeAfterCurrent = false;
  /**
   * A failure found while requests before it were still in flight (pipelining): it is
   * answered, and the connection closed, once their responses are written, never before.
   */
  #failAfter: WeftError | undefined;
  /** When the head of the request being read started (ms, performance.now()), or 0. */
  headStartedAt = 0;
  /** Last time the connection had no request in flight (ms), or 0 while busy. */
  idleSince = performance.now();
  /** The request that asked for a protocol upgrade; parsing stops after its head. */
  #upgrading: Exchange | undefined;
  #upgradeRest: Buffer = Buffer.alloc(0) as Buffer;
  readonly #onClose: (conn: Downstream) => void;

  /** Whether the connection is TLS. */
  readonly tls: boolean;

  /** The client's address (rate limits key plaintext callers by it). */
  get remoteAddress(): string {
    return this.#socket.remoteAddress ?? '';
  }

  constructor(socket: Socket, options: DownstreamOptions, onClose: (conn: Downstream) => void) {
    this.options = options;
    this.#socket = socket;
    this.tls = socket instanceof TLSSocket;
    this.#onClose = onClose;
    this.#parser = new Http1Parser('request', options.maxHeaderBytes, {
      onHead: (head) => this.#onHead(head),
      onBody: (chunk) => this.#parsing?.receiveBody(chunk),
      onTrailers: (t) => {
        this.#trailers = t;
      },
      onMessageEnd: () => this.#onMessageEnd(),
    });
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('end', () => this.#onEnd());
    socket.on('close', () => this.#onSocketClose());
    socket.on('error', () => {
      /* 'close' follows and aborts what is in flight */
    });
    socket.on('drain', () => this.#onDrain());
  }

  /** True when no request is in flight. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#parsing === undefined;
  }

  #onData(d: Buffer): void {
    if (this.#closed) return;
    if (this.#upgrading !== undefined) {
      // Bytes of the upgraded protocol: keep them for whoever takes the socket over.
      this.#upgradeRest = Buffer.concat([this.#upgradeRest, d]);
      this.pauseReading();
      return;
    }
    if (this.headStartedAt === 0 && this.#parsing === undefined) this.headStartedAt = performance.now();
    this.idleSince = 0;
    this.#socket.cork();
    const r = this.#parser.execute(d);
    if (isParserError(r)) this.#onParseError(r);
    else if (this.#upgrading !== undefined) {
      this.#upgradeRest = d.subarray(r);
      this.pauseReading();
    }
    this.#socket.uncork();
  }

  /** Batches the writes that follow into one (one syscall, one TLS record) until uncork(). */
  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  #onHead(head: ParsedHead): void {
    // The parser may find more requests in a buffer after the connection was condemned
    // (a body over the limit): they are never dispatched.
    if (this.#closed) return;
    this.headStartedAt = 0;
    const facts = scanHead(head.headers);
    const ex = new Exchange(this, head, facts);
    this.#parsing = ex;
    this.#trailers = undefined;
    this.#queue.push(ex);
    const max = this.options.maxBodyBytes;
    if (max > 0 && facts.contentLength > max) {
      this.rejectBody(ex);
      return;
    }
    if (head.upgrade) this.#upgrading = ex;
    if (this.#queue.length === 1) this.#dispatch(ex);
  }

  #onMessageEnd(): void {
    const ex = this.#parsing;
    this.#parsing = undefined;
    if (ex === undefined) return;
    ex.receiveEnd(this.#trailers);
    this.#trailers = undefined;
  }

  #dispatch(ex: Exchange): void {
    if (this.#draining && this.#queue.length > 0 && this.#queue[0] === ex) {
      // A request already on the wire when draining started is still served; the
      // response says the connection closes.
      this.closeAfterCurrent = true;
    }
    try {
      this.options.handle(ex);
    } catch (err) {
      ex.fail(err);
    }
  }

  #onParseError(err: ParserError): void {
    const code = parserErrorCode(err);
    const ex = this.#parsing;
    this.#closed = true; // no more parsing: the stream is out of sync
    const failure = new WeftError(code, `${err.reason || err.code}`, { parser: err.code });
    if (ex !== undefined && ex.responseStarted) {
      this.destroy();
      return;
    }
    this.#parsing = undefined;
    const i = ex === undefined ? -1 : this.#queue.indexOf(ex);
    if (i >= 0) {
      // The request broke mid-body (bad chunk framing): stop it; if it was in flight,
      // cancel its upstream side.
      if (i === 0) ex?.abort();
      this.#queue.splice(i, 1);
    }
    this.#failLater(failure);
  }

  /** Answers `failure` now if no response is pending, else after the pending ones. */
  #failLater(failure: WeftError): void {
    if (this.#queue.length === 0) this.#writeStandalone(failure);
    else this.#failAfter = failure;
  }

  /** Writes an error response when no exchange owns the connection, then closes. */
  #writeStandalone(failure: WeftError): void {
    const r = errorResponse(failure.code, failure.message, this.options.hop);
    const body = Buffer.from(r.body);
    this.#socket.end(
      `HTTP/1.1 ${r.status} ${REASONS[r.status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\nx-weft-error: ${r.header}\r\nconnection: close\r\n\r\n${r.body}`,
    );
    // A peer that keeps its side open after the error must not hold the socket.
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }

  /** @internal the request body exceeded the limit. */
  rejectBody(ex: Exchange): void {
    if (this.#closed) return;
    this.#closed = true; // the rest of the body is not read
    const failure = new WeftError(
      'WEFT_ERR_HTTP_BODY_TOO_LARGE',
      `request body exceeds limits.maxRequestBodyBytes (${this.options.maxBodyBytes} bytes)`,
    );
    if (this.#queue[0] === ex) {
      this.closeAfterCurrent = true;
      ex.reject(failure); // tears down an upstream request already under way, then answers
      return;
    }
    // A pipelined request waiting its turn: answered after the ones before it.
    const i = this.#queue.indexOf(ex);
    if (i >= 0) this.#queue.splice(i, 1);
    if (this.#parsing === ex) this.#parsing = undefined;
    this.#failLater(failure);
  }

  /** Sent timeout: a client that stalled mid-head. */
  timeoutHead(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#failLater(new WeftError('WEFT_ERR_HTTP_HEADERS_TIMEOUT', 'request head not received in time'));
  }

  /** Whether the connection may stay open after answering `ex`. */
  keepAliveAfter(ex: Exchange): boolean {
    // With a failure still to answer, the responses before it keep the connection open.
    return ex.head.keepAlive && !this.closeAfterCurrent && !this.#draining && (!this.#closed || this.#failAfter !== undefined);
  }

  /** @internal an exchange ended: start the next pipelined one, or close. */
  exchangeEnded(ex: Exchange): void {
    this.options.onExchangeEnd?.(ex);
    if (this.#queue[0] === ex) this.#queue.shift();
    if (ex.upgraded) return;
    if (this.closeAfterCurrent || (this.#closed && this.#failAfter === undefined)) {
      this.#closed = true; // nothing more is read: a request sent after this would go unanswered
      this.#queue.length = 0;
      this.#socket.end();
      return;
    }
    // An exchange answered before its request body ended (an early response) no longer
    // has a sink: the rest of its body is read and discarded, so reading must resume.
    if (this.#paused && (this.#parsing === undefined || this.#parsing === ex)) this.resumeReading();
    const next = this.#queue[0];
    if (next !== undefined) this.#dispatch(next);
    else if (this.#failAfter !== undefined) {
      const failure = this.#failAfter;
      this.#failAfter = undefined;
      this.#writeStandalone(failure);
    } else if (this.#parsing === undefined) {
      this.idleSince = performance.now();
      if (this.#draining) this.#socket.end();
    }
  }

  /** Writes raw bytes to the client; false when its buffer is full. */
  write(data: string | Buffer): boolean {
    return this.#socket.write(data);
  }

  pauseReading(): void {
    if (!this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  resumeReading(): void {
    if (this.#paused) {
      this.#paused = false;
      this.#socket.resume();
    }
  }

  /** Called by the current exchange's upstream to resume it when the client drained. */
  onClientDrain: (() => void) | undefined;

  #onDrain(): void {
    const fn = this.onClientDrain;
    if (fn !== undefined) fn();
  }

  /** Stop taking new requests: close when idle, else after the response in flight. */
  drain(): void {
    this.#draining = true;
    if (this.idle) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** @internal see Exchange.takeOver. */
  detach(): { socket: Socket; rest: Buffer } {
    this.#closed = true;
    const socket = this.#socket;
    socket.removeAllListeners('data');
    socket.removeAllListeners('drain');
    socket.removeAllListeners('end');
    this.#parser.close();
    this.#queue.length = 0;
    this.#paused = false;
    return { socket, rest: this.#upgradeRest };
  }

  #onEnd(): void {
    // The client half-closed. A response in flight is still delivered (some clients
    // shut down their writing side after the request); an idle connection closes.
    const fin = this.#parser.finish();
    if (fin !== undefined && this.#parsing !== undefined && !this.#parsing.requestComplete) {
      this.#parsing.abort();
    }
    this.closeAfterCurrent = true;
    if (this.idle) this.#socket.end();
  }

  #onSocketClose(): void {
    this.#closed = true;
    for (const ex of this.#queue) ex.abort();
    this.#queue.length = 0;
    this.#parsing = undefined;
    if (!this.#socket.destroyed) this.#socket.destroy();
    try {
      this.#parser.close();
    } catch {
      /* already closed by detach */
    }
    this.#onClose(this);
  }
}
