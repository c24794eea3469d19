import type { BodySink, Exchange } from '../http1/downstream.js';
import type { RawHeaders } from '../http1/llhttp.js';
import type { AttemptHooks, Http1Pool, UpstreamExchange, UpstreamRequest } from '../http1/upstream.js';
import type { OutboundDecision } from '../outbound/resolve.js';
import { ReplayBuffer } from '../resilience/replay-buffer.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import type { ProxyError } from '../errors/proxy-error.js';
import type { AttemptOutcome } from '../resilience/attempt-outcome.js';
import { AttemptRun, type Attempt, type AttemptVerdict, type RunClient } from './attempt-run.js';
import type { Destination } from './destination.js';

type Forward = Extract<OutboundDecision, { kind: 'forward' }>;

/** An HTTP/1.1 request ready to go upstream, but for the attempt-specific parts. */
export type Http1Template = Omit<UpstreamRequest, 'exchange' | 'hop' | 'responseTimeoutMs' | 'attempt'>;

/** What sending needs of the proxy: the pool of an endpoint, bound to the breaker of the Service it is reached as. */
export interface PoolSource {
  poolFor(endpoint: EndpointRef, destination: Destination): Http1Pool;
}

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
export const sendHttp1 = (ex: Exchange, decision: Forward, template: Http1Template, pools: PoolSource): void => {
  const run = AttemptRun.start(decision);
  if (run === undefined) {
    ex.fail(AttemptRun.overflowError(decision));
    return;
  }
  new Http1Send(ex, decision, template, pools, run).send();
};

/**
 * One request's sending: the client side the run needs ({@link RunClient}) and the hooks
 * of its current attempt ({@link AttemptHooks}) in one object, so that the request path
 * allocates it once instead of a closure per callback.
 */
class Http1Send implements RunClient, AttemptHooks {
  readonly #ex: Exchange;
  readonly #decision: Forward;
  readonly #pools: PoolSource;
  readonly #run: AttemptRun;
  #template: Http1Template;
  #attempt: Attempt | undefined;
  #verdict: AttemptVerdict | undefined;
  #replay: ReplayBuffer | undefined;
  #trailers: RawHeaders | undefined;
  /** Whether the client's body was bound to an attempt: until then a retry can send the client's exchange itself. */
  #bound = false;

  constructor(ex: Exchange, decision: Forward, template: Http1Template, pools: PoolSource, run: AttemptRun) {
    this.#ex = ex;
    this.#decision = decision;
    this.#pools = pools;
    this.#run = run;
    this.#template = run.retries && ex.hasBody ? this.#keepingBody(template) : template;
  }

  /** The template with the body copied as it streams, for a retry to send again. */
  #keepingBody(template: Http1Template): Http1Template {
    const max = this.#decision.route.maxReplayBodyBytes;
    const facts = this.#ex.facts;
    const copy = facts.chunked || facts.contentLength <= max ? new ReplayBuffer(max) : undefined;
    this.#replay = copy;
    const inner = template.teeBody;
    const record = (sink: BodySink): BodySink => {
      this.#bound = true;
      if (copy === undefined) return sink;
      return {
        write: (chunk) => {
          copy.push(chunk);
          return sink.write(chunk);
        },
        end: (t) => {
          copy.end();
          this.#trailers = t;
          sink.end(t);
        },
      };
    };
    return { ...template, teeBody: inner === undefined ? record : (sink) => record(inner(sink)) };
  }

  #bodyReplayable(): boolean {
    return !this.#ex.hasBody || !this.#bound || this.#replay?.replayable === true;
  }

  /** Sends the next attempt (bound: a retry after a backoff calls it too). */
  readonly send = (): void => {
    const attempt = this.#run.next(this);
    if (attempt === undefined) return;
    this.#attempt = attempt;
    this.#verdict = undefined;
    const ex = this.#ex;
    const exchange = this.#bound ? replayExchange(ex, this.#replay ?? EMPTY_BODY, () => this.#trailers) : ex;
    const t = this.#template;
    this.#pools.poolFor(attempt.endpoint, this.#decision.backend.destination).dispatch({
      exchange,
      head: t.head,
      framing: t.framing,
      hop: attempt.hop,
      responseTimeoutMs: attempt.timeoutMs,
      onUpgrade: t.onUpgrade,
      teeBody: t.teeBody,
      editResponseHeaders: t.editResponseHeaders,
      attempt: this,
    });
  };

  // RunClient
  closed(): boolean {
    return this.#ex.ended;
  }

  fail(error: ProxyError): void {
    this.#ex.fail(error);
  }

  onAbort(fn: (() => void) | undefined): void {
    this.#ex.onAbort(fn);
  }

  flag(flag: string): void {
    this.#ex.flag = flag;
  }

  // AttemptHooks of the current attempt
  responded(status: number, headers: RawHeaders): boolean {
    const attempt = this.#attempt;
    if (attempt === undefined) return true;
    const verdict = attempt.responded(status, attempt.wantsOutcome ? headerValue(headers, 'grpc-status') : undefined, this.#bodyReplayable());
    this.#verdict = verdict;
    return !verdict.retry;
  }

  finished(): void {
    this.#attempt?.finished();
  }

  discarded(): void {
    const verdict = this.#verdict;
    if (verdict?.retry === true) this.#run.after(verdict.delayMs, this.send, this);
  }

  failed(outcome: AttemptOutcome | undefined, error: ProxyError): boolean {
    const attempt = this.#attempt;
    if (attempt === undefined) return false;
    const v = attempt.failed(outcome, error, this.#bodyReplayable());
    if (v.retry) {
      // Nothing more is read for the failed attempt; a retry sends the kept copy.
      if (this.#bound) this.#ex.unbindBody();
      this.#run.after(v.delayMs, this.send, this);
    } else this.#ex.fail(v.error ?? error);
    return true;
  }
}

const EMPTY_BODY = ((): ReplayBuffer => {
  const b = new ReplayBuffer(0);
  b.end();
  return b;
})();
