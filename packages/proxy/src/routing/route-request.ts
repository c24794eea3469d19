import type { IncomingHttpHeaders } from 'node:http2';
import type { RawHeaders } from '../http1/llhttp.js';

/**
 * What route matching reads of a request, the same for HTTP/1.1 and HTTP/2. Made once per
 * request; a header is looked up only when a match asks for it, so routes that match on
 * the path alone cost nothing more than the path.
 */
export interface RouteRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly target: string;
  /** The value of header `name` (lower case); repeated fields joined with ",". */
  header(name: string): string | undefined;
  /** Whether it is a gRPC call (`content-type: application/grpc...`). */
  readonly grpc: boolean;
}

/** The path of an origin-form target: everything before `?`. */
export const pathOf = (target: string): string => {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
};

const isGrpc = (contentType: string | undefined): boolean => contentType !== undefined && contentType.startsWith('application/grpc');

/** An HTTP/1.1 request, over llhttp's raw header list (names as the client wrote them). */
export class Http1RouteRequest implements RouteRequest {
  readonly method: string;
  readonly target: string;
  readonly #headers: RawHeaders;

  constructor(method: string, target: string, headers: RawHeaders) {
    this.method = method;
    this.target = target;
    this.#headers = headers;
  }

  header(name: string): string | undefined {
    const h = this.#headers;
    let value: string | undefined;
    for (let i = 0; i < h.length; i += 2) {
      const n = h[i] as string;
      if (n.length !== name.length || n.toLowerCase() !== name) continue;
      const v = h[i + 1] as string;
      value = value === undefined ? v : `${value},${v}`;
    }
    return value;
  }

  get grpc(): boolean {
    return isGrpc(this.header('content-type'));
  }
}

/** An HTTP/2 request, over Node's header object (names in lower case). */
export class Http2RouteRequest implements RouteRequest {
  readonly method: string;
  readonly target: string;
  readonly grpc: boolean;
  readonly #headers: IncomingHttpHeaders;

  constructor(method: string, target: string, headers: IncomingHttpHeaders, grpc: boolean) {
    this.method = method;
    this.target = target;
    this.#headers = headers;
    this.grpc = grpc;
  }

  header(name: string): string | undefined {
    const v = this.#headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }
}

/** A request known by its path only (opaque TCP, which has no headers to match). */
export class PathRouteRequest implements RouteRequest {
  readonly method = 'GET';
  readonly grpc = false;
  readonly target: string;

  constructor(target: string) {
    this.target = target;
  }

  header(): string | undefined {
    return undefined;
  }
}

const decode = (s: string): string => {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
};

/**
 * The first value of query parameter `name` in `target`, decoded as a form would be (`+`
 * is a space, `%XX` a byte of UTF-8); `''` for a parameter without `=`; undefined when
 * absent. Scans the query without building a map: a route asks for few parameters.
 */
export const queryParam = (target: string, name: string): string | undefined => {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  let start = q + 1;
  while (start <= target.length) {
    let end = target.indexOf('&', start);
    if (end < 0) end = target.length;
    if (end > start) {
      const eq = target.indexOf('=', start);
      const keyEnd = eq < 0 || eq > end ? end : eq;
      if (decode(target.slice(start, keyEnd)) === name) return keyEnd === end ? '' : decode(target.slice(keyEnd + 1, end));
    }
    start = end + 1;
  }
  return undefined;
};
