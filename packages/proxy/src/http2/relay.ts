import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { ProxyError } from '../errors/proxy-error.js';
import type { AttemptOutcome } from '../resilience/attempt-outcome.js';
import type { H2Exchange } from './exchange.js';
import { forwardResponseHeaders, forwardTrailers, responseHasNoBody } from './headers.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_FLAG_END_STREAM } = constants;

/**
 * How {@link relayStream} may end besides a response. Every field is always given
 * (undefined when unused), so that the options of every stream have one shape.
 */
export interface RelayOptions {
  /** Time allowed until the response headers arrive; 0 for none. */
  readonly responseTimeoutMs: number;
  /**
   * Sends the request again on a fresh stream. Offered only while that is safe: the
   * upstream refused the stream (REFUSED_STREAM: nothing was processed) and no request body
   * has been consumed. Without it, a refused stream is refused to the client in turn.
   */
  readonly retry: (() => void) | undefined;
  /** Route filters: edits the final response's headers before they go to the client. */
  readonly editResponseHeaders: ((headers: OutgoingHttpHeaders) => void) | undefined;
  /** Route filters: sees the request body as it streams up (mirrors copy it). */
  readonly tapRequestBody: { write(chunk: Buffer): void; end(): void } | undefined;
  /** Destination policies: told how the attempt ends, and may send the request again. */
  readonly attempt: RelayAttemptHooks | undefined;
  /**
   * A retry's body: the copy kept of what the client sent (the client stream has ended),
   * written up instead of piping the client stream.
   */
  readonly replayBody: { readonly chunks: readonly Uint8Array[]; readonly trailers: IncomingHttpHeaders | undefined } | undefined;
  /** Told the client's request trailers, so that a retry can send them again. */
  readonly onRequestTrailers: ((trailers: IncomingHttpHeaders) => void) | undefined;
}

/** What destination policies learn of one HTTP/2 attempt; it ends once, by `failed` or by `responded` then `finished`. */
export interface RelayAttemptHooks {
  /** The final response head arrived. False: the stream is cancelled and the response dropped (a retry follows). */
  responded(status: number, grpcStatus: string | undefined): boolean;
  /** The response went out, whole or broken off, or the client left. */
  finished(): void;
  /** No response: true when the hooks took the failure over (a retry), else the error the client gets. */
  failed(outcome: AttemptOutcome, error: ProxyError): true | ProxyError;
}

/** The response headers the client gets. */
const responseHeaders = (headers: IncomingHttpHeaders, opts: RelayOptions): OutgoingHttpHeaders => {
  const out = forwardResponseHeaders(headers);
  opts.editResponseHeaders?.(out);
  return out;
};

/**
 * Joins a client stream and the upstream stream it was forwarded on, until both close:
 * request body and trailers up, response headers, body and trailers down (`pipe` both ways,
 * so each side's flow-control window is the backpressure), resets passed on in both
 * directions, and failures before the response rendered as proxy errors.
 */
export const relayStream = (ex: H2Exchange, up: ClientHttp2Stream, opts: RelayOptions): void => {
  const down = ex.down;
  let timer: NodeJS.Timeout | undefined;
  /** Set once the exchange was ended here (error response), so the upstream's close changes nothing. */
  let detached = false;
  up.on('error', noop); // every outcome is read on 'close'
  const hooks = opts.attempt;
  /** Whether the hooks were told how this attempt ended (a retry, a failure): `finished` is then not theirs to hear. */
  let told = false;
  /** Tells the hooks the attempt is over, unless they already know how it ended. */
  const finished = (): void => {
    if (told) return;
    told = true;
    hooks?.finished();
  };
  const replay = opts.replayBody;

  if (replay !== undefined) {
    up.once('wantTrailers', () => {
      if (!up.destroyed) up.sendTrailers(forwardTrailers(replay.trailers));
    });
    for (const c of replay.chunks) up.write(c);
    up.end();
  } else if (ex.hasBody) {
    let requestTrailers: IncomingHttpHeaders | undefined;
    down.once('trailers', (t: IncomingHttpHeaders) => {
      requestTrailers = t;
      opts.onRequestTrailers?.(t);
    });
    up.once('wantTrailers', () => {
      if (!up.destroyed) up.sendTrailers(forwardTrailers(requestTrailers));
    });
    down.on('data', (chunk: Buffer) => {
      ex.requestBytes += chunk.length;
    });
    down.pipe(up);
    const tap = opts.tapRequestBody;
    if (tap !== undefined) {
      down.on('data', (chunk: Buffer) => tap.write(chunk));
      down.once('end', () => tap.end());
    }
  }
  up.on('data', (chunk: Buffer) => {
    ex.responseBytes += chunk.length;
  });

  up.on('headers', (headers: IncomingHttpHeaders) => {
    // Informational responses (100, 103) before the final one.
    ex.interim(forwardResponseHeaders(headers));
  });

  up.once('response', (headers: IncomingHttpHeaders, flags: number) => {
    if (timer !== undefined) clearTimeout(timer);
    const status = Number(headers[':status'] ?? 200);
    const endStream = (flags & NGHTTP2_FLAG_END_STREAM) !== 0 || responseHasNoBody(ex.method, status);
    const grpcStatus = headers['grpc-status'];
    if (hooks !== undefined && !hooks.responded(status, typeof grpcStatus === 'string' ? grpcStatus : undefined)) {
      told = true;
      detached = true;
      unpipeClient();
      if (!up.closed && !up.destroyed) up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    if (typeof grpcStatus === 'string') ex.grpcStatus = grpcStatus;
    if (endStream) {
      // Trailers-Only (gRPC errors) or a response without body: one HEADERS frame.
      if (!ex.respond(responseHeaders(headers, opts), true, false)) detached = true;
      up.resume();
      return;
    }
    let responseTrailers: IncomingHttpHeaders | undefined;
    up.once('trailers', (t: IncomingHttpHeaders) => {
      responseTrailers = t;
      const grpcStatus = t['grpc-status'];
      if (typeof grpcStatus === 'string') ex.grpcStatus = grpcStatus;
    });
    down.once('wantTrailers', () => {
      if (!down.destroyed) down.sendTrailers(forwardTrailers(responseTrailers));
    });
    if (!ex.respond(responseHeaders(headers, opts), false, true)) {
      detached = true;
      up.close(constants.NGHTTP2_CANCEL);
      return;
    }
    up.pipe(down);
  });

  /** Stops feeding the upstream stream from the client's: nothing more goes to this attempt. */
  function unpipeClient(): void {
    if (replay === undefined && ex.hasBody && !down.readableEnded) {
      down.unpipe(up);
      down.resume();
    }
  }

  up.once('close', () => {
    if (timer !== undefined) clearTimeout(timer);
    if (!detached) ex.onCancel(undefined);
    // The upstream is done: whatever the client still sends has nowhere to go.
    unpipeClient();
    if (detached || ex.closed) {
      finished();
      return;
    }
    const code = up.rstCode ?? NGHTTP2_INTERNAL_ERROR;
    if (!ex.responded) {
      const refused = code === NGHTTP2_REFUSED_STREAM;
      const reason = code === NGHTTP2_NO_ERROR ? 'upstream closed the stream without a response' : `upstream reset the stream (${rstName(code)})`;
      let error = new ProxyError('WEFT_ERR_PROXY_UPSTREAM_RESET', reason, ex.hop);
      if (hooks !== undefined) {
        told = true;
        const taken = hooks.failed(refused ? REFUSED : RESET, error);
        if (taken === true) return;
        error = taken;
      }
      if (refused) {
        // Refused before any processing: safe to send again, here or by the client.
        if (opts.retry !== undefined) opts.retry();
        else ex.reset(NGHTTP2_REFUSED_STREAM);
        return;
      }
      ex.fail(error);
      return;
    }
    finished();
    // A clean close has ended the response body already (pipe), with trailers to follow.
    if (code !== NGHTTP2_NO_ERROR || !up.readableEnded) ex.reset(code === NGHTTP2_NO_ERROR ? NGHTTP2_INTERNAL_ERROR : code);
  });

  ex.onCancel((code) => {
    if (!up.closed && !up.destroyed) up.close(code);
  });
  if (ex.closed) {
    // The client left before the stream was opened (a retry after a backoff).
    if (!up.closed && !up.destroyed) up.close(constants.NGHTTP2_CANCEL);
  }

  if (opts.responseTimeoutMs > 0) {
    timer = setTimeout(() => {
      timer = undefined;
      if (ex.responded || ex.closed) return;
      detached = true;
      ex.onCancel(undefined);
      unpipeClient();
      if (!up.closed && !up.destroyed) up.close(constants.NGHTTP2_CANCEL);
      const error = new ProxyError('WEFT_ERR_PROXY_UPSTREAM_TIMEOUT', `no response within ${opts.responseTimeoutMs} ms`, ex.hop);
      told = true;
      const taken = hooks === undefined ? error : hooks.failed(TIMEOUT, error);
      if (taken !== true) ex.fail(taken);
    }, opts.responseTimeoutMs);
  }
};

/** `INTERNAL_ERROR` for 2, and so on: RST_STREAM codes as RFC 9113 names them. */
export const rstName = (code: number): string => RST_NAMES[code] ?? `code ${code}`;

const RST_NAMES: Readonly<Record<number, string>> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};

const noop = (): void => {};

const RESET: AttemptOutcome = { kind: 'reset' };
const REFUSED: AttemptOutcome = { kind: 'refused-stream' };
const TIMEOUT: AttemptOutcome = { kind: 'timeout' };
