import type { Exchange } from './downstream.js';
import { appendEndToEnd } from './head.js';
import type { RawHeaders } from './llhttp.js';

/** Where a request goes, as the forwarding head names it. */
export interface RequestTarget {
  /** `host[:port]` for the Host header. */
  readonly authority: string;
  /** Origin-form path and query. */
  readonly path: string;
}

/** Splits an absolute-form target (`http://reviews:9080/x`, sent to an HTTP proxy). */
export const splitAbsoluteForm = (url: string): RequestTarget | undefined => {
  if (!url.startsWith('http://') && !url.startsWith('https://')) return undefined;
  const start = url.indexOf('//') + 2;
  let end = url.indexOf('/', start);
  const q = url.indexOf('?', start);
  if (end < 0 || (q >= 0 && q < end)) end = q;
  const authority = end < 0 ? url.slice(start) : url.slice(start, end);
  const rest = end < 0 ? '/' : url.slice(end);
  return { authority: authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority, path: rest.startsWith('?') ? `/${rest}` : rest };
};

/** How the forwarded request's body is framed: as the client framed it. */
export const requestFraming = (ex: Exchange): 'none' | 'length' | 'chunked' =>
  ex.facts.chunked ? 'chunked' : ex.facts.contentLength > 0 ? 'length' : 'none';

/**
 * The request head sent upstream: origin-form target, the Host the client meant,
 * end-to-end headers only, and framing for this hop. `extra` is added verbatim (lines
 * ending in CRLF). `headers` are the client's, unless route filters changed them.
 */
export const buildRequestHead = (ex: Exchange, target: RequestTarget, extra: string, headers: RawHeaders = ex.head.headers): string => {
  const upgrade = ex.head.upgrade && ex.facts.upgradeProtocol !== '';
  let head = `${ex.head.method} ${target.path} HTTP/1.1\r\nhost: ${target.authority}\r\n`;
  head = appendEndToEnd(head, headers, ex.facts, upgrade, true);
  if (ex.facts.chunked) head += 'transfer-encoding: chunked\r\n';
  if (upgrade) head += 'connection: upgrade\r\n';
  return `${head}${extra}\r\n`;
};
