import { performance } from 'node:perf_hooks';
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { ErrorCode } from '@weft/api/data-plane';
import type { PeerIdentity } from '../authz/peer-identity.js';
import { WeftError } from '@weft/core';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import { errorResponse } from '../errors/rescue.js';
import { encodeGrpcMessage, isGrpcContentType } from './headers.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

/**
 * One request stream accepted from a client, from its headers until the stream closes.
 * It owns the client side: the response headers (sent once), the proxy's own error
 * responses (rendered by `errorResponse`, the one place errors become responses), resets,
 * and the cancellation of upstream work when the client goes away first.
 */
export class H2Exchange {
  readonly down: ServerHttp2Stream;
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly path: string;
  /** `:authority`, or `host` from a client that sent that instead. */
  readonly authority: string;
  readonly grpc: boolean;
  /** Whether the request has a body (its HEADERS frame did not end the stream). */
  readonly hasBody: boolean;
  /** The hop the request is at, for errors; refined once the target is resolved. */
  hop: HopRef;
  /** Response status sent (0 before any), and the response flag of a proxy error (`-` when none). */
  status = 0;
  flag = '-';
  /** Telemetry: what the request was routed to, `grpc-status` seen, bytes each way. */
  target: object | undefined;
  grpcStatus = '';
  requestBytes = 0;
  responseBytes = 0;
  readonly startedAt = performance.now();
  readonly upgraded = false;
  /** Inbound: the caller's identity and whether its connection is mutual TLS (set by the handler). */
  peer: PeerIdentity | undefined;
  mutualTls = false;
  #responded = false;
  #cancel: ((code: number) => void) | undefined;

  get protocol(): 'http' | 'grpc' {
    return this.grpc ? 'grpc' : 'http';
  }

  constructor(down: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, hop: HopRef) {
    this.down = down;
    this.headers = headers;
    this.method = headers[':method'] ?? 'GET';
    this.path = headers[':path'] ?? '/';
    this.authority = headers[':authority'] ?? headers.host ?? '';
    this.grpc = isGrpcContentType(headers['content-type']);
    this.hasBody = (flags & NGHTTP2_FLAG_END_STREAM) === 0;
    this.hop = hop;
    // Stream errors are outcomes handled on 'close'; unhandled they would crash the process.
    down.on('error', noop);
    down.once('close', () => this.#onClose());
  }

  /** True once the client stream is closed or destroyed: nothing more can be sent. */
  get closed(): boolean {
    return this.down.closed || this.down.destroyed;
  }

  /** Whether response headers (or a proxy error response) went out. */
  get responded(): boolean {
    return this.#responded;
  }

  /**
   * Registers how to cancel the upstream side if the client resets the stream or it closes
   * before the response is complete; called with the client's RST_STREAM code.
   */
  onCancel(fn: ((code: number) => void) | undefined): void {
    this.#cancel = fn;
  }

  /**
   * Sends the response headers. `waitForTrailers` keeps the stream open after the body so
   * that the caller can send trailers on 'wantTrailers'. Returns false if the headers could
   * not be sent (stream gone, or headers Node refuses), having failed the exchange.
   */
  respond(headers: OutgoingHttpHeaders, endStream: boolean, waitForTrailers: boolean): boolean {
    if (this.closed || this.#responded) return false;
    try {
      this.down.respond(headers, { endStream, waitForTrailers: waitForTrailers && !endStream });
    } catch (err) {
      this.fail(new ProxyError('WEFT_ERR_PROXY_UPSTREAM_PROTOCOL', `response headers not valid: ${(err as Error).message}`, this.hop, { cause: err }));
      return false;
    }
    this.#responded = true;
    this.status = Number(headers[':status'] ?? 200);
    return true;
  }

  /** Forwards an informational (1xx) response before the final one. */
  interim(headers: OutgoingHttpHeaders): void {
    if (this.closed || this.#responded) return;
    try {
      this.down.additionalHeaders(headers);
    } catch {
      // An interim response Node will not send is only advisory: drop it.
    }
  }

  /** Resets the client stream (too late for an error response, or a reset passed on). */
  reset(code: number): void {
    if (this.closed) return;
    this.down.close(code);
  }

  /**
   * Ends the request with a proxy error. Before any response: the response `errorResponse`
   * renders (gRPC callers get HTTP 200 with `grpc-status`, `grpc-message` and `x-weft-error`
   * in a Trailers-Only response; others the HTTP status, `x-weft-error` and a text body).
   * After the response started, the only honest signal left is a reset.
   */
  fail(error: unknown): void {
    if (this.closed) return;
    const e = error instanceof WeftError ? error : undefined;
    const code: ErrorCode = e?.code ?? 'WEFT_ERR_PROXY_UPSTREAM_RESET';
    const hop = error instanceof ProxyError ? error.hop : this.hop;
    const reason = error instanceof Error ? error.message : String(error);
    const r = errorResponse(code, reason, hop, error instanceof ProxyError ? error.extras : undefined);
    this.flag = r.flag;
    this.#cancel = undefined;
    if (this.#responded) {
      this.reset(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // The rest of the request body, if any, is read and dropped: nothing will forward it.
    this.down.unpipe();
    this.down.resume();
    if (this.grpc) {
      this.grpcStatus = String(r.grpcStatus);
      this.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(r.grpcStatus),
          'grpc-message': encodeGrpcMessage(r.header),
          'x-weft-error': r.header,
          ...Object.fromEntries(r.headers),
        },
        true,
        false,
      );
      // The status recorded is the one sent (200), as Istio records gRPC errors: the
      // outcome is in grpc_response_status and the response flag.
      return;
    }
    const body = Buffer.from(r.body);
    const ok = this.respond(
      {
        ':status': r.status,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': body.length,
        'x-weft-error': r.header,
        ...Object.fromEntries(r.headers),
      },
      this.method === 'HEAD',
      false,
    );
    if (ok && this.method !== 'HEAD') this.down.end(body);
  }

  #onClose(): void {
    const cancel = this.#cancel;
    this.#cancel = undefined;
    if (cancel === undefined) return;
    const code = this.down.rstCode;
    // A stream that closed with its response complete needs no cancelling.
    if ((code === undefined || code === NGHTTP2_NO_ERROR) && this.down.writableFinished) return;
    cancel(code === undefined || code === NGHTTP2_NO_ERROR ? NGHTTP2_CANCEL : code);
  }
}

const noop = (): void => {};
