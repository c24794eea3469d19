import type { HopRef } from '../errors/proxy-error.js';
import type { BodySink } from '../http1/downstream.js';
import { appendEndToEnd, type HeadFacts } from '../http1/head.js';
import type { ParsedHead, RawHeaders } from '../http1/llhttp.js';
import type { Http1Pool, UpstreamExchange } from '../http1/upstream.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import type { MirrorBody, MirrorSlot } from './mirror.js';

/**
 * Mirrors of HTTP/1.1 requests, sent on the pool of the mirror's endpoint like any other
 * request, as a {@link MirrorExchange} that answers nobody: its response is read and
 * dropped, its failure counted. The copy carries the request as forwarded, with its whole
 * body (`content-length` framing) and no `expect`.
 */

/** What a mirror copies of the request. */
export interface Http1MirrorRequest {
  /** The client's head (its method tells the response parser whether a body follows). */
  readonly head: ParsedHead;
  readonly facts: HeadFacts;
  /** Origin-form target as forwarded. */
  readonly path: string;
  /** The `Host` of the copy (the forwarded one, marked `-shadow`). */
  readonly authority: string;
  /** The headers as forwarded (route filters applied). */
  readonly headers: RawHeaders;
  /** Who sends it, for the error a failed mirror would carry. */
  readonly proxy: string;
}

const NO_BATCHING = { cork: (): void => {}, uncork: (): void => {} };

/** A request the proxy sends on its own: no client waits for it. */
class MirrorExchange implements UpstreamExchange {
  readonly head: ParsedHead;
  readonly hasBody: boolean;
  readonly downstream = NO_BATCHING;
  readonly #body: Buffer | undefined;
  readonly #slot: MirrorSlot;

  constructor(head: ParsedHead, body: Buffer | undefined, slot: MirrorSlot) {
    this.head = head;
    this.#body = body;
    this.hasBody = body !== undefined;
    this.#slot = slot;
  }

  get ended(): boolean {
    return this.#slot.released;
  }

  onAbort(fn: (() => void) | undefined): void {
    this.#slot.onTimeout(fn);
  }

  bindBody(sink: BodySink): void {
    if (this.#body !== undefined) sink.write(this.#body);
    sink.end(undefined);
  }

  sinkDrained(): void {}
  writeInterim(): void {}
  writeHead(): void {}
  writeSwitchingProtocols(): void {}
  onClientDrain(): void {}

  writeBody(): boolean {
    return true;
  }

  end(): void {
    this.#slot.release('completed');
  }

  fail(): void {
    this.#slot.release('failed');
  }
}

const FRAMING = new Set(['content-length', 'expect']);

/** The copy's head: the forwarded request line and headers, framed by the copied body's length. */
const mirrorHead = (m: Http1MirrorRequest, body: Buffer | undefined): string => {
  const headers: RawHeaders = [];
  for (let i = 0; i < m.headers.length; i += 2) {
    const name = m.headers[i] as string;
    if (!FRAMING.has(name.toLowerCase())) headers.push(name, m.headers[i + 1] as string);
  }
  let head = `${m.head.method} ${m.path} HTTP/1.1\r\nhost: ${m.authority}\r\n`;
  head = appendEndToEnd(head, headers, m.facts, false, true);
  if (body !== undefined) head += `content-length: ${body.length}\r\n`;
  return `${head}\r\n`;
};

/** Sends the mirrors still held in `slots`, each to an endpoint of its backend. Never throws. */
export const sendHttp1Mirrors = (poolFor: (endpoint: EndpointRef) => Http1Pool, slots: readonly MirrorSlot[], m: Http1MirrorRequest, body: Buffer | undefined): void => {
  for (const slot of slots) {
    if (slot.released) continue;
    const backend = slot.policy.backend;
    const endpoint = backend.balancer.pick();
    if (endpoint === undefined) {
      slot.release('dropped_no_endpoint');
      continue;
    }
    const hop: HopRef = { direction: 'outbound', proxy: m.proxy, service: backend.service, backend: backend.name, endpoint: endpoint.key };
    try {
      poolFor(endpoint).dispatch({
        exchange: new MirrorExchange(m.head, body, slot),
        head: mirrorHead(m, body),
        framing: body === undefined ? 'none' : 'length',
        hop,
        responseTimeoutMs: 0,
        onUpgrade: undefined,
        teeBody: undefined,
        editResponseHeaders: undefined,
        attempt: undefined,
      });
    } catch {
      slot.release('failed');
    }
  }
};

/** A body sink that also feeds `copy`: the mirrors' body is copied as the real request's streams. */
export const teeTo =
  (copy: MirrorBody) =>
  (sink: BodySink): BodySink => ({
    write: (chunk) => {
      copy.write(chunk);
      return sink.write(chunk);
    },
    end: (trailers) => {
      sink.end(trailers);
      copy.end();
    },
  });
