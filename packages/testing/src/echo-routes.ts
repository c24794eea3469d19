import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { readBodyDigest } from './body-digest.js';
import { echoBytesChunks, echoBytesSha256 } from './echo-bytes.js';

/**
 * The request behaviours the HTTP/1.1 and HTTP/2 echo servers share, written against the
 * small surface that `http.IncomingMessage`/`ServerResponse` and the HTTP/2 compatibility
 * API have in common, so that both servers answer the same paths the same way.
 */

/** What the routes read from a request (satisfied by `IncomingMessage` and `Http2ServerRequest`). */
export interface EchoRouteRequest extends AsyncIterable<Buffer | string> {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly httpVersion: string;
}

/** What the routes write to (satisfied by `ServerResponse` and `Http2ServerResponse`). */
export interface EchoRouteResponse {
  readonly writableEnded: boolean;
  writeHead(statusCode: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
  end(chunk?: Uint8Array | string): unknown;
  addTrailers(headers: OutgoingHttpHeaders): void;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** The JSON body `/echo` answers with. */
export interface EchoReplyBody {
  method: string;
  url: string;
  /** Request headers as the server saw them (lower-case names; HTTP/2 pseudo-headers removed). */
  headers: IncomingHttpHeaders;
  /** `1.1` or `2.0`. */
  httpVersion: string;
  bodyBytes: number;
  /** Hex SHA-256 of the request body (of the empty string when there is none). */
  bodySha256: string;
}

/** The `/hello` body: exactly 100 bytes, the same on every server. */
export const HELLO_BODY: Buffer = Buffer.from('hello from weft'.padEnd(99, '.') + '\n');

/** What a server passes to {@link handleEchoRoute} besides the request and response. */
export interface EchoRouteContext {
  /** Sent as `x-served-by` on every response, so tests can tell backends apart. */
  readonly name: string;
  /**
   * Ends the exchange abruptly after the head and part of the body have gone out:
   * HTTP/1.1 destroys the socket (with a TCP RST when `rst`), HTTP/2 resets the stream.
   */
  readonly reset: (rst: boolean) => void;
}

/** Length of the partial body `/reset` sends before breaking off; its head promises twice as much. */
export const RESET_PARTIAL_BYTES = 1024;

/**
 * Answers one request by its path:
 * - `/echo` (any method): JSON {@link EchoReplyBody}; the body is hashed as it streams, never held.
 * - `/bytes/N`: N bytes of {@link echoBytesChunks} written with backpressure, `x-sha256` header
 *   computed up front; chunked unless `?length=1` (then `content-length`); `?trailer=1` also sends
 *   the hash as trailer `x-sha256-trailer`, computed as the bytes go out (HTTP/1.1 carries
 *   trailers only in chunked responses, so not with `?length=1` there).
 * - `/status/CODE` (200-599): that status with a short text body.
 * - `/slow/MS`: waits MS milliseconds, then answers like `/hello` (gives up if the client leaves).
 * - `/reset`: head (content-length 2048) and 1024 body bytes, then breaks the connection
 *   (`?rst=1`: with a TCP RST on HTTP/1.1).
 * - `/hello`: the 100-byte {@link HELLO_BODY}.
 * - anything else: 404.
 */
export const handleEchoRoute = async (
  req: EchoRouteRequest,
  res: EchoRouteResponse,
  ctx: EchoRouteContext,
): Promise<void> => {
  const rawUrl = req.url ?? '/';
  // A base makes relative request targets parse; absolute-form ones keep their own host.
  const url = new URL(rawUrl, 'http://echo.invalid');
  const [, route = '', arg = ''] = url.pathname.split('/');
  const served = { 'x-served-by': ctx.name };
  const text = (status: number, body: string | Buffer): void => {
    res.writeHead(status, { ...served, 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  switch (route) {
    case 'echo': {
      const digest = await readBodyDigest(req);
      const headers: IncomingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) headers[k] = v;
      const body: EchoReplyBody = {
        method: req.method ?? '',
        url: rawUrl,
        headers,
        httpVersion: req.httpVersion,
        bodyBytes: digest.bytes,
        bodySha256: digest.sha256,
      };
      const json = JSON.stringify(body);
      res.writeHead(200, { ...served, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
      return;
    }
    case 'bytes': {
      const n = Number(arg);
      if (!Number.isSafeInteger(n) || n < 0) return text(400, `bad byte count ${arg}\n`);
      await drainRequest(req);
      await sendBytes(res, n, {
        ...served,
        'content-type': 'application/octet-stream',
        'x-sha256': echoBytesSha256(n),
        ...(url.searchParams.get('length') === '1' ? { 'content-length': n } : {}),
        ...(url.searchParams.get('trailer') === '1' ? { trailer: 'x-sha256-trailer' } : {}),
      });
      return;
    }
    case 'status': {
      const code = Number(arg);
      if (!Number.isInteger(code) || code < 200 || code > 599) return text(400, `bad status ${arg}\n`);
      await drainRequest(req);
      if (code === 204 || code === 304) {
        res.writeHead(code, served);
        res.end();
        return;
      }
      return text(code, `status ${code}\n`);
    }
    case 'slow': {
      const ms = Number(arg);
      if (!Number.isFinite(ms) || ms < 0) return text(400, `bad delay ${arg}\n`);
      await drainRequest(req);
      const completed = await sleepUnlessClosed(res, ms);
      if (completed) text(200, HELLO_BODY);
      return;
    }
    case 'reset': {
      await drainRequest(req);
      res.writeHead(200, { ...served, 'content-type': 'application/octet-stream', 'content-length': 2 * RESET_PARTIAL_BYTES });
      // Break off only once the partial body has been handed to the kernel, so the client
      // reliably sees a head and some body before the failure.
      res.write(Buffer.alloc(RESET_PARTIAL_BYTES, 0x61), () => ctx.reset(url.searchParams.get('rst') === '1'));
      return;
    }
    case 'hello':
      await drainRequest(req);
      return text(200, HELLO_BODY);
    default:
      await drainRequest(req);
      return text(404, `no route ${url.pathname}\n`);
  }
};

/** Reads and discards a request body, so that keep-alive connections stay usable. */
const drainRequest = async (req: EchoRouteRequest): Promise<void> => {
  for await (const _ of req) {
    // discard
  }
};

/** Resolves true after `ms`, or false as soon as the response closes first (client left). */
const sleepUnlessClosed = (res: EchoRouteResponse, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });

/** Streams the `/bytes/N` payload, waiting for `drain` whenever the socket's buffer is full. */
const sendBytes = async (res: EchoRouteResponse, n: number, headers: OutgoingHttpHeaders): Promise<void> => {
  const withTrailer = headers['trailer'] !== undefined;
  const hash = createHash('sha256');
  let closed = false;
  const onClose = (): void => {
    closed = true;
  };
  res.once('close', onClose);
  res.writeHead(200, headers);
  for (const chunk of echoBytesChunks(n)) {
    if (closed) return;
    if (withTrailer) hash.update(chunk);
    if (!res.write(chunk)) await drainOrClose(res);
  }
  res.off('close', onClose);
  if (closed) return;
  if (withTrailer) res.addTrailers({ 'x-sha256-trailer': hash.digest('hex') });
  res.end();
};

const drainOrClose = (res: EchoRouteResponse): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
