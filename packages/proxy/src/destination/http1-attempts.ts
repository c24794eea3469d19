import type { BodySink, Exchange } from '../http1/downstream.js';
import type { RawHeaders } from '../http1/llhttp.js';
import type { AttemptHooks, Http1Pool, UpstreamExchange, UpstreamRequest } from '../http1/upstream.js';
import type { OutboundDecision } from '../outbound/resolve.js';
import { ReplayBuffer } from '../resilience/replay-buffer.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { AttemptRun, type AttemptVerdict, type RunClient } from './attempt-run.js';
import type { Destination } from './destination.js';

type Forward = Extract<OutboundDecision, { kind: 'forward' }>;

/** An HTTP/1.1 request ready to go upstream, but for the attempt-specific parts. */
export type Http1Template = Omit<UpstreamRequest, 'exchange' | 'hop' | 'responseTimeoutMs' | 'attempt'>;

/** What sending needs of the proxy: the pool of an endpoint. */
export type PoolFor = (endpoint: EndpointRef, destination: Destination) => Http1Pool;

const headerValue = (headers: RawHeaders, name: string): string | undefined => {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    if (n.length === name.length && n.toLowerCase() === name) return headers[i + 1];
  }
  return undefined;
};

/**
 * The exchange a retry sends: the client's, but its body is the copy kept of the first
 * attempt's (the client sent it once; it is not read again).
 */
const replayExchange = (ex: Exchange, body: ReplayBuffer, trailers: () => RawHeaders | undefined): UpstreamExchange => ({
  get head() {
    return ex.head;
  },
  get hasBody() {
    return ex.hasBody;
  },
  get ended() {
    return ex.ended;
  },
  get downstream() {
    return ex.downstream;
  },
  onAbort: (fn) => ex.onAbort(fn),
  bindBody: (sink: BodySink) => {
    for (const c of body.chunks()) sink.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    sink.end(trailers());
  },
  sinkDrained: () => undefined,
  writeInterim: (status, reason, block) => ex.writeInterim(status, reason, block),
  writeHead: (status, reason, block, framing) => ex.writeHead(status, reason, block, framing),
  writeSwitchingProtocols: (reason, block) => ex.writeSwitchingProtocols(reason, block),
  onClientDrain: (fn) => ex.onClientDrain(fn),
  writeBody: (chunk) => ex.writeBody(chunk),
  end: (t) => ex.end(t),
  fail: (e) => ex.fail(e),
});

/**
 * Sends an outbound HTTP/1.1 request under its destination's policies: the breaker's
 * `maxRequests`, load and outcome reporting to the balancer and the outlier detector, and
 * the rule's retries (a new endpoint picked for each, the body replayed from a bounded
 * copy) within the destination's retry budget and `maxRetries`.
 */
export const sendHttp1 = (ex: Exchange, decision: Forward, template: Http1Template, poolFor: PoolFor): void => {
  const run = AttemptRun.start(decision);
  if (run === undefined) {
    ex.fail(AttemptRun.overflowError(decision));
    return;
  }
  const client: RunClient = {
    closed: () => ex.ended,
    fail: (e) => ex.fail(e),
    onAbort: (fn) => ex.onAbort(fn),
    flag: (f) => {
      ex.flag = f;
    },
  };
  let replay: ReplayBuffer | undefined;
  let trailers: RawHeaders | undefined;
  /** Whether the client's body was bound to an attempt: until then a retry can send the client's exchange itself. */
  let bound = false;
  if (run.retries && ex.hasBody) {
    const max = decision.route.maxReplayBodyBytes;
    const copy = ex.facts.chunked || ex.facts.contentLength <= max ? new ReplayBuffer(max) : undefined;
    replay = copy;
    const inner = template.teeBody;
    const record = (sink: BodySink): BodySink => {
      bound = true;
      if (copy === undefined) return sink;
      return {
        write: (chunk) => {
          copy.push(chunk);
          return sink.write(chunk);
        },
        end: (t) => {
          copy.end();
          trailers = t;
          sink.end(t);
        },
      };
    };
    template = { ...template, teeBody: inner === undefined ? record : (sink) => record(inner(sink)) };
  }
  const bodyReplayable = (): boolean => !ex.hasBody || !bound || replay?.replayable === true;
  const send = (): void => {
    const attempt = run.next(client);
    if (attempt === undefined) return;
    let verdict: AttemptVerdict | undefined;
    const hooks: AttemptHooks = {
      responded: (status, headers) => {
        verdict = attempt.responded(status, headerValue(headers, 'grpc-status'), bodyReplayable());
        return !verdict.retry;
      },
      finished: () => attempt.finished(),
      discarded: () => {
        if (verdict?.retry === true) run.after(verdict.delayMs, send, client);
      },
      failed: (outcome, error) => {
        const v = attempt.failed(outcome, error, bodyReplayable());
        if (v.retry) {
          // Nothing more is read for the failed attempt; a retry sends the kept copy.
          if (bound) ex.unbindBody();
          run.after(v.delayMs, send, client);
        } else ex.fail(v.error ?? error);
        return true;
      },
    };
    const exchange = bound ? replayExchange(ex, replay ?? EMPTY_BODY, () => trailers) : ex;
    poolFor(attempt.endpoint, decision.backend.destination).dispatch({
      ...template,
      exchange,
      hop: attempt.hop,
      responseTimeoutMs: attempt.timeoutMs,
      attempt: hooks,
    });
  };
  send();
};

const EMPTY_BODY = ((): ReplayBuffer => {
  const b = new ReplayBuffer(0);
  b.end();
  return b;
})();
