import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import type { OutboundDecision } from '../outbound/resolve.js';
import { isServerError, parseGrpcStatus, type AttemptOutcome } from '../resilience/attempt-outcome.js';
import { attemptTimeout, remainingMs } from '../resilience/request-deadline.js';
import { isRetriableOutcome, isRetryLimitReason, type NoRetryReason } from '../resilience/retry-policy.js';
import { RetryState } from '../resilience/retry-state.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { countRetry, countRetryRefused } from './destination-counts.js';

type Forward = Extract<OutboundDecision, { kind: 'forward' }>;

/** What to do after an attempt: send another after `delayMs`, or stop (failing with `error`, when given). */
export type AttemptVerdict = { readonly retry: true; readonly delayMs: number } | { readonly retry: false; readonly error?: ProxyError | undefined };

/** What a run needs of the client's side of the exchange, the same for HTTP/1.1 and HTTP/2. */
export interface RunClient {
  readonly closed: () => boolean;
  readonly fail: (error: ProxyError) => void;
  /** Sets the one cleanup to run if the client goes away (replacing the previous one). */
  readonly onAbort: (fn: (() => void) | undefined) => void;
  /** Records the response flag of the exchange (`URX` when retries ran out on a response passed through). */
  readonly flag: (flag: string) => void;
}

const outcomeReason = (o: AttemptOutcome): string => (o.kind === 'response' ? (o.grpcStatus !== undefined && o.grpcStatus !== 0 ? `grpc-${o.grpcStatus}` : String(o.status)) : o.kind);

/**
 * One request's way through its destination's policies, attempt by attempt. It holds a
 * unit of the breaker's `maxRequests` from start to end; each attempt tells the balancer
 * and the outlier detector how it went, and the rule's retry policy, the destination's
 * budget and its `maxRetries` decide whether another follows, on an endpoint picked anew.
 * The request deadline (`timeouts.request`) spans every attempt and backoff.
 */
export class AttemptRun {
  readonly #decision: Forward;
  readonly #retry: RetryState | undefined;
  readonly #started = performance.now();
  #attempts = 0;
  #done = false;
  #endpoint: EndpointRef;
  #hop: HopRef;

  private constructor(decision: Forward) {
    this.#decision = decision;
    this.#endpoint = decision.endpoint;
    this.#hop = decision.hop;
    const policy = decision.route.retry;
    const destination = decision.backend.destination;
    if (policy !== undefined) {
      destination.budget.deposit();
      this.#retry = new RetryState(policy, { budget: destination.budget, breaker: destination.breaker, random: Math.random });
    }
  }

  /** A run for `decision`, or undefined when the destination's `maxRequests` are all in flight. */
  static start(decision: Forward): AttemptRun | undefined {
    // A unit without a lease object: one allocation fewer per request; finish() gives it back once.
    if (!decision.backend.destination.breaker.tryTake('requests')) return undefined;
    return new AttemptRun(decision);
  }

  /** The 503 `UO` of a request refused by the breaker. */
  static overflowError(decision: Forward): ProxyError {
    const max = decision.backend.destination.breaker.limits.maxRequests;
    return new ProxyError('WEFT_ERR_PROXY_OVERFLOW', `circuit breaker: ${max} requests already in flight to ${decision.backend.service} (connectionPool.maxRequests)`, decision.hop);
  }

  /** Whether the rule retries at all (so that the body is worth keeping). */
  get retries(): boolean {
    return this.#retry !== undefined;
  }

  /**
   * The next attempt: the first goes where routing picked, a retry to an endpoint picked
   * again. Undefined when the request is over (the client left, or the deadline passed,
   * in which case the client got its 504).
   */
  next(client: RunClient): Attempt | undefined {
    if (this.#done) return undefined;
    if (client.closed()) {
      this.finish();
      return undefined;
    }
    if (this.#attempts > 0) {
      // The same hash as the first pick (a made-up sticky cookie included), so that a
      // hashing balancer keeps the request where its key belongs unless that endpoint is out.
      const backend = this.#decision.backend;
      const picked = backend.balancer.pick(backend.hashKey === undefined ? undefined : { hash: this.#decision.hash });
      if (picked !== undefined && picked !== this.#endpoint) {
        this.#endpoint = picked;
        this.#hop = { ...this.#decision.hop, endpoint: picked.key };
      }
    }
    const elapsed = performance.now() - this.#started;
    const route = this.#decision.route;
    const timeout = attemptTimeout(route.timeouts, elapsed);
    if (timeout !== undefined && timeout.timeoutMs <= 0) {
      this.finish();
      client.fail(new ProxyError('WEFT_ERR_PROXY_UPSTREAM_TIMEOUT', `the request deadline (timeouts.request ${route.timeouts.requestMs ?? 0} ms) passed after ${this.#attempts} attempts`, this.#hop));
      return undefined;
    }
    this.#attempts++;
    // Whole milliseconds up: a deadline is never cut short by rounding.
    const timeoutMs = timeout === undefined ? route.limits.responseTimeoutMs : Math.ceil(timeout.timeoutMs);
    return new Attempt(this, client, this.#endpoint, this.#hop, timeoutMs, timeout?.by);
  }

  /** Waits `delayMs`, then calls `send`; a client that leaves meanwhile ends the run. */
  after(delayMs: number, send: () => void, client: RunClient): void {
    const timer = setTimeout(() => {
      client.onAbort(undefined);
      send();
    }, delayMs);
    client.onAbort(() => {
      clearTimeout(timer);
      this.finish();
    });
  }

  /** @internal the decision on an attempt that ended with `outcome`. */
  decide(outcome: AttemptOutcome, bodyReplayable: boolean, responseCommitted: boolean): { retry: true; delayMs: number } | { retry: false; reason: NoRetryReason } {
    const state = this.#retry;
    const policy = this.#decision.route.retry;
    if (state === undefined || policy === undefined || !isRetriableOutcome(policy, outcome)) return { retry: false, reason: 'not-retriable' };
    const elapsed = performance.now() - this.#started;
    const d = state.afterAttempt({ outcome, bodyReplayable, responseCommitted, remainingMs: remainingMs(this.#decision.route.timeouts, elapsed) });
    // Labelled by the Service whose budget and breaker decided (a subset's parent).
    const service = this.#decision.backend.service;
    if (d.retry) {
      countRetry(service, outcomeReason(outcome));
      return { retry: true, delayMs: d.delayMs };
    }
    countRetryRefused(service, d.reason);
    return d;
  }

  /** @internal how many attempts were sent. */
  get attempts(): number {
    return this.#attempts;
  }

  /** @internal the request is over: its breaker unit and retry slot go back (once, whatever calls it). */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#decision.backend.destination.breaker.give('requests');
    this.#retry?.finish();
  }

  /** @internal */
  get destination(): Forward['backend']['destination'] {
    return this.#decision.backend.destination;
  }

  /** @internal */
  get balancer(): Forward['backend']['balancer'] {
    return this.#decision.backend.balancer;
  }
}

/** One attempt of a run: where it goes, and what its end tells the policies. */
export class Attempt {
  readonly endpoint: EndpointRef;
  readonly hop: HopRef;
  /** Time allowed for the response head: the rule's per-attempt timeout cut by the request deadline. */
  readonly timeoutMs: number;
  /** Which of the rule's timeouts set {@link timeoutMs}; undefined: the proxy-wide limit. */
  readonly timeoutBy: 'request' | 'backendRequest' | undefined;
  readonly #run: AttemptRun;
  readonly #client: RunClient;
  readonly #sent = performance.now();
  #reported = false;

  constructor(run: AttemptRun, client: RunClient, endpoint: EndpointRef, hop: HopRef, timeoutMs: number, timeoutBy: 'request' | 'backendRequest' | undefined) {
    this.#run = run;
    this.#client = client;
    this.endpoint = endpoint;
    this.hop = hop;
    this.timeoutMs = timeoutMs;
    this.timeoutBy = timeoutBy;
    run.balancer.onRequestStart(endpoint);
  }

  /**
   * Whether anything reads this attempt's outcome beyond success or failure: a retry policy
   * or outlier detection. Without them a response is not looked at further (no grpc-status
   * read, no outcome object made), which keeps the common request cheap.
   */
  get wantsOutcome(): boolean {
    return this.#run.retries || this.#run.destination.outliers !== undefined;
  }

  #report(outcome: AttemptOutcome | undefined, success = outcome !== undefined && !isServerError(outcome)): void {
    if (this.#reported) return;
    this.#reported = true;
    const latencyMs = performance.now() - this.#sent;
    this.#run.balancer.onRequestEnd(this.endpoint, { latencyMs, success });
    if (outcome !== undefined) this.#run.destination.outliers?.record(this.endpoint.key, outcome);
  }

  /** A response head arrived: retry (its body is dropped) or forward it. */
  responded(status: number, grpcStatus: string | undefined, bodyReplayable: boolean): AttemptVerdict {
    if (!this.wantsOutcome) {
      this.#report(undefined, status < 500);
      return NO_RETRY;
    }
    const outcome: AttemptOutcome = { kind: 'response', status, grpcStatus: parseGrpcStatus(grpcStatus) };
    this.#report(outcome);
    const d = this.#run.decide(outcome, bodyReplayable, false);
    if (d.retry) return d;
    // Retries ran out on a response the policy would have retried: it goes to the client
    // as it is, flagged as Envoy does.
    if (isRetryLimitReason(d.reason)) this.#client.flag('URX');
    return NO_RETRY;
  }

  /**
   * Gives this attempt up without a verdict, for a resend that is always safe (a stream the
   * upstream refused unprocessed): the balancer hears of it, the policies do not.
   */
  abandon(): void {
    this.#report(undefined);
  }

  /** The response went out whole, or the client left: the request is over. */
  finished(): void {
    this.#report(undefined);
    this.#run.finish();
  }

  /**
   * The attempt failed without a response (`outcome` undefined: refused by this proxy).
   * Retry, or stop with the error the client gets, saying why no retry followed.
   */
  failed(outcome: AttemptOutcome | undefined, cause: ProxyError, bodyReplayable: boolean): AttemptVerdict {
    this.#report(outcome);
    // Name the rule's limit that ran out, so that the caller knows which to raise.
    const error =
      outcome?.kind === 'timeout' && this.timeoutBy !== undefined
        ? new ProxyError(cause.code, `${cause.message} (timeouts.${this.timeoutBy})`, cause.hop, { cause })
        : cause;
    if (outcome !== undefined) {
      const d = this.#run.decide(outcome, bodyReplayable, false);
      if (d.retry) return d;
      if (isRetryLimitReason(d.reason) || this.#run.attempts > 1) {
        this.#run.finish();
        return { retry: false, error: new ProxyError(error.code, `${error.message} (attempt ${this.#run.attempts}; no retry: ${d.reason})`, error.hop, { cause: error, ...(error.extras === undefined ? {} : { extras: error.extras }) }) };
      }
    }
    this.#run.finish();
    return { retry: false, error };
  }
}

const NO_RETRY: AttemptVerdict = { retry: false };
