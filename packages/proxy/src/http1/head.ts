import type { RawHeaders } from './llhttp.js';

/**
 * Serialising HTTP/1.1 heads for forwarding. A proxy must drop hop-by-hop headers (they
 * describe one connection, not the message) and choose the framing of the next hop itself.
 */

/** Headers that belong to one connection and are never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** How a message's body is delimited on the wire. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** What forwarding needs to know of a head, found in one pass over its headers. */
export interface HeadFacts {
  /** Content-Length when present (llhttp already rejected invalid or duplicate values). */
  contentLength: number;
  chunked: boolean;
  host: string;
  /** Lower-cased names listed in Connection, which are hop-by-hop too. */
  connectionTokens: string[] | undefined;
  upgradeProtocol: string;
  expectContinue: boolean;
}

/** Scans raw headers once for the facts forwarding needs. */
export const scanHead = (headers: RawHeaders): HeadFacts => {
  const facts: HeadFacts = {
    contentLength: -1,
    chunked: false,
    host: '',
    connectionTokens: undefined,
    upgradeProtocol: '',
    expectContinue: false,
  };
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    // Cheap length-switch first: most headers are none of these.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') facts.host = headers[i + 1] as string;
        break;
      case 6:
        if (name.toLowerCase() === 'expect') facts.expectContinue = (headers[i + 1] as string).toLowerCase() === '100-continue';
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') facts.upgradeProtocol = headers[i + 1] as string;
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          const tokens = (headers[i + 1] as string)
            .toLowerCase()
            .split(',')
            .map((t) => t.trim())
            .filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade');
          if (tokens.length > 0) facts.connectionTokens = [...(facts.connectionTokens ?? []), ...tokens];
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') facts.contentLength = Number(headers[i + 1]);
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') facts.chunked = /(^|,)\s*chunked\s*$/i.test(headers[i + 1] as string);
        break;
    }
  }
  return facts;
};

const isHopByHop = (lowerName: string, facts: HeadFacts, keepUpgrade: boolean): boolean => {
  if (HOP_BY_HOP.has(lowerName)) return !(keepUpgrade && lowerName === 'upgrade');
  return facts.connectionTokens !== undefined && facts.connectionTokens.includes(lowerName);
};

/** Lengths of the names in HOP_BY_HOP and `host`, to skip lower-casing most header names. */
const HOP_LENGTHS = new Set([...HOP_BY_HOP, 'host'].map((n) => n.length));

/**
 * Appends the end-to-end headers of `headers` to `out` as `Name: value\r\n` lines, leaving
 * out hop-by-hop headers, and `Host` when `dropHost` (the caller writes its own).
 */
export const appendEndToEnd = (
  out: string,
  headers: RawHeaders,
  facts: HeadFacts,
  keepUpgrade: boolean,
  dropHost = false,
): string => {
  const custom = facts.connectionTokens !== undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (custom || HOP_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (isHopByHop(lower, facts, keepUpgrade) || (dropHost && lower === 'host')) continue;
    }
    out += `${name}: ${headers[i + 1] as string}\r\n`;
  }
  return out;
};

/** Reason phrases for the statuses the proxy itself answers with. */
export const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** The terminating chunk of a chunked body, with trailer fields when there are any. */
export const lastChunk = (trailers: RawHeaders | undefined): string => {
  if (trailers === undefined || trailers.length === 0) return '0\r\n\r\n';
  let out = '0\r\n';
  for (let i = 0; i < trailers.length; i += 2) out += `${trailers[i] as string}: ${trailers[i + 1] as string}\r\n`;
  return `${out}\r\n`;
};

/** Whether a response to `method` with `status` carries no body by definition. */
export const responseHasNoBody = (method: string, status: number): boolean =>
  method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);
