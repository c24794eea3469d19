import type { IncomingHttpHeaders as H1IncomingHeaders, OutgoingHttpHeaders } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http2';

/**
 * Header rules for forwarding HTTP/2: which fields describe one connection (RFC 9113
 * §8.2.2 forbids them in HTTP/2, and Node throws if asked to send one), and how a message
 * crosses between HTTP/2 and HTTP/1.1.
 */

/** Connection-specific fields: never forwarded onto an HTTP/2 hop. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Fields that belong to this proxy hop and are not forwarded at all (as the HTTP/1.1 engine does). */
const PROXY_HOP = new Set(['proxy-authorization', 'proxy-authenticate']);

/** Pseudo-headers a forwarded request keeps; `:protocol` (extended CONNECT) is not supported. */
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);

/**
 * The size of a header list as an HTTP/1.1 head would carry it (`name: value` and CRLF per
 * field), so that one limit means the same on both protocols.
 */
export const headBytes = (headers: IncomingHttpHeaders): number => {
  let n = 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') n += name.length + value.length + 4;
    else for (const v of value) n += name.length + v.length + 4;
  }
  return n;
};

/** Whether a request is a gRPC call, by its content type (`application/grpc`, `+proto`, `+json`...). */
export const isGrpcContentType = (contentType: string | undefined): boolean =>
  contentType !== undefined && contentType.startsWith('application/grpc');

/**
 * The request headers sent to the next HTTP/2 hop: the client's pseudo-headers and
 * end-to-end fields; `te` only as `trailers`, the one value HTTP/2 allows (gRPC needs it).
 */
export const forwardRequestHeaders = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.charCodeAt(0) === 0x3a /* : */) {
      if (REQUEST_PSEUDO.has(name)) out[name] = value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || PROXY_HOP.has(name)) continue;
    if (name === 'te') {
      if (typeof value === 'string' && value.trim().toLowerCase() === 'trailers') out[name] = 'trailers';
      continue;
    }
    out[name] = value;
  }
  return out;
};

/** The response headers sent to the client: `:status` and the end-to-end fields. */
export const forwardResponseHeaders = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':status') out[name] = value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(name) || PROXY_HOP.has(name)) continue;
    out[name] = value;
  }
  return out;
};

/** Trailer fields to pass on: everything but pseudo-headers and connection-specific fields. */
export const forwardTrailers = (trailers: IncomingHttpHeaders | undefined): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  if (trailers === undefined) return out;
  for (const name in trailers) {
    const value = trailers[name];
    if (value === undefined || name.charCodeAt(0) === 0x3a || CONNECTION_SPECIFIC.has(name)) continue;
    out[name] = value;
  }
  return out;
};

/** Connection-specific fields of an HTTP/1.1 message, plus the ones its `Connection` header names. */
const h1HopByHop = (connection: string | string[] | undefined): ReadonlySet<string> | undefined => {
  if (connection === undefined) return undefined;
  const tokens = (Array.isArray(connection) ? connection.join(',') : connection)
    .toLowerCase()
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  return tokens.length === 0 ? undefined : new Set(tokens);
};

/**
 * An HTTP/2 request as an HTTP/1.1 request's headers: `host` from `:authority`, no
 * pseudo-headers, no connection-specific fields (node:http frames the body itself), no
 * `te` or `trailer` (trailers are not carried on this translation).
 */
export const http1RequestHeaders = (headers: IncomingHttpHeaders, authority: string): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = { host: authority };
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name.charCodeAt(0) === 0x3a) continue;
    if (CONNECTION_SPECIFIC.has(name) || PROXY_HOP.has(name) || name === 'te' || name === 'trailer' || name === 'host') continue;
    out[name] = value;
  }
  return out;
};

/** An HTTP/1.1 response head as HTTP/2 response headers. */
export const http2ResponseFromHttp1 = (status: number, headers: H1IncomingHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = { ':status': status };
  const named = h1HopByHop(headers['connection']);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (CONNECTION_SPECIFIC.has(name) || PROXY_HOP.has(name) || name === 'trailer') continue;
    if (named !== undefined && named.has(name)) continue;
    out[name] = value;
  }
  return out;
};

/** Whether a response to `method` with `status` has no body by definition. */
export const responseHasNoBody = (method: string, status: number): boolean =>
  method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);

/**
 * A `grpc-message` value: percent-encoded as the gRPC HTTP/2 protocol requires (every byte
 * outside printable ASCII, and `%` itself).
 */
export const encodeGrpcMessage = (message: string): string => {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
};
