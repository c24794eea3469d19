/**
 * Access to llhttp, the C HTTP/1.1 parser inside Node.js, without Node's `http` module
 * around it. The module's IncomingMessage/ServerResponse streams cost more per request than
 * the proxy's whole forwarding path; the parser itself is the part worth reusing: it is
 * strict (it rejects Content-Length with Transfer-Encoding, duplicate lengths, obsolete
 * line folding, bad tokens) and it is the same code that guards every Node HTTP server.
 * See docs/adr/0002-http1-engine-on-llhttp.md for why, and the fallback if Node removes it.
 */

/** Flat [name, value, name, value, ...] list of raw headers, as llhttp delivers them. */
export type RawHeaders = string[];

/** The callbacks a parser instance reports to, indexed by the binding's numeric keys. */
interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | ParserError;
  finish(): number | ParserError | undefined;
  close(): void;
  free(): void;
  remove(): void;
  [key: number]: unknown;
}

/** What llhttp returns when input is not valid HTTP. */
export interface ParserError extends Error {
  code: string;
  reason: string;
  bytesParsed: number;
}

interface Binding {
  HTTPParser: {
    new (): NativeParser;
    REQUEST: number;
    RESPONSE: number;
    kOnHeaders: number;
    kOnHeadersComplete: number;
    kOnBody: number;
    kOnMessageComplete: number;
    kOnExecute: number;
    kLenientNone: number;
  };
  methods: string[];
}

const loadBinding = (): Binding => {
  // process.binding is deprecated for user code (DEP0111) and warns once; the warning is
  // emitted synchronously, so silencing it around this one call leaves every other
  // deprecation warning of the process intact.
  const previous = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return (process as unknown as { binding(name: string): Binding }).binding('http_parser');
  } finally {
    process.noDeprecation = previous;
  }
};

const binding = loadBinding();
const { HTTPParser } = binding;

/** HTTP method names by llhttp's numeric method id. */
export const METHODS: readonly string[] = binding.methods;

/** Receives what a parser finds, message by message. */
export interface ParserEvents {
  /**
   * A message head is complete. For a response parser, return true when the response can
   * have no body (the request was HEAD) so that llhttp does not wait for one.
   */
  onHead(head: ParsedHead): boolean | void;
  onBody(chunk: Buffer): void;
  /** Trailer fields of a chunked message, when it had any; called before onMessageEnd. */
  onTrailers(trailers: RawHeaders): void;
  onMessageEnd(): void;
}

/** A request or response head. Requests carry method and url, responses status and reason. */
export interface ParsedHead {
  versionMajor: number;
  versionMinor: number;
  headers: RawHeaders;
  method: string;
  url: string;
  status: number;
  reason: string;
  upgrade: boolean;
  keepAlive: boolean;
}

export type ParserKind = 'request' | 'response';

/**
 * One llhttp parser bound to one connection. Headers may arrive in several pieces when a
 * head spans reads, so they are accumulated here until the head completes; after that, a
 * further piece can only be trailers.
 */
export class Http1Parser {
  readonly #native: NativeParser;
  #pendingHeaders: RawHeaders = [];
  #pendingUrl = '';
  #inBody = false;

  constructor(kind: ParserKind, maxHeaderSize: number, events: ParserEvents) {
    const native = new HTTPParser();
    native.initialize(kind === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
    native[HTTPParser.kOnHeaders] = (headers: RawHeaders, url: string): void => {
      if (this.#inBody) {
        events.onTrailers(headers);
        return;
      }
      for (const h of headers) this.#pendingHeaders.push(h);
      this.#pendingUrl += url;
    };
    native[HTTPParser.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: RawHeaders | undefined,
      method: number | undefined,
      url: string | undefined,
      status: number | undefined,
      reason: string | undefined,
      upgrade: boolean,
      keepAlive: boolean,
    ): number => {
      let all = headers;
      let fullUrl = url;
      if (all === undefined) {
        all = this.#pendingHeaders;
        fullUrl = this.#pendingUrl;
        this.#pendingHeaders = [];
        this.#pendingUrl = '';
      }
      this.#inBody = true;
      const skipBody = events.onHead({
        versionMajor,
        versionMinor,
        headers: all,
        method: method === undefined ? '' : (METHODS[method] ?? ''),
        url: fullUrl ?? '',
        status: status ?? 0,
        reason: reason ?? '',
        upgrade,
        keepAlive,
      });
      return skipBody === true ? 1 : 0;
    };
    native[HTTPParser.kOnBody] = (chunk: Buffer): void => events.onBody(chunk);
    native[HTTPParser.kOnMessageComplete] = (): void => {
      this.#inBody = false;
      events.onMessageEnd();
    };
    this.#native = native;
  }

  /** Feeds bytes; returns how many were consumed, or the parse error. */
  execute(data: Buffer): number | ParserError {
    return this.#native.execute(data);
  }

  /** Signals end of input (a close-delimited body ends here); returns an error if incomplete. */
  finish(): ParserError | undefined {
    const r = this.#native.finish();
    return typeof r === 'object' ? r : undefined;
  }

  /** Releases the native parser; the instance is unusable afterwards. */
  close(): void {
    this.#native.close();
  }
}

/** True when `r`, a return of execute(), is a parse error. */
export const isParserError = (r: number | ParserError): r is ParserError => typeof r !== 'number';
