import type { IncomingHttpHeaders } from 'node:http2';
import type { HeaderReader } from './evaluator.js';

/**
 * How the evaluator reads a header from each protocol's own header form, without copying
 * the headers: repeated headers are joined with `,` (as Envoy reads them for RBAC).
 */

/** HTTP/1.1 raw headers (`[name, value, name, value, ...]` as received). */
export const readRawHeader: HeaderReader<readonly string[]> = (raw, name) => {
  let found: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string;
    if (key.length !== name.length || key.toLowerCase() !== name) continue;
    const value = raw[i + 1] as string;
    found = found === undefined ? value : `${found},${value}`;
  }
  return found;
};

/** HTTP/2 headers as Node gives them (lower-case names). `host` reads `:authority`, as HTTP/2 carries it there. */
export const readH2Header: HeaderReader<IncomingHttpHeaders> = (headers, name) => {
  const value = name === 'host' ? (headers[':authority'] ?? headers.host) : headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};
