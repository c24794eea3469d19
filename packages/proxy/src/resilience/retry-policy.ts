import type { Random } from './clock.js';
import { GRPC_STATUS_CODES, type AttemptOutcome, type GrpcStatusName } from './attempt-outcome.js';
import { backoffDelayMs, maxBackoffFor, type BackoffSpec } from './backoff.js';

/**
 * When a finished attempt may be retried: the conditions (Envoy's `retry_on` names), the
 * statuses, the number of retries and the backoff. HTTPRoute `retry` compiles to
 * `retryOn: [connect-failure, refused-stream]` plus its `codes` as `statusCodes`.
 */
export type RetryCondition = 'connect-failure' | 'refused-stream' | 'reset' | '5xx' | 'gateway-error';
export const RETRY_CONDITIONS: readonly RetryCondition[] = ['connect-failure', 'refused-stream', 'reset', '5xx', 'gateway-error'];

/** A retry policy in the snapshot's units. */
export interface RetryPolicySpec {
  /** Retries after the first attempt; 0 disables retries. */
  readonly attempts: number;
  /** `maxMs` absent: ten times `baseMs`, as Envoy. */
  readonly backoff: { readonly baseMs: number; readonly maxMs?: number | undefined };
  readonly retryOn: readonly RetryCondition[];
  /** Response statuses retried on. */
  readonly statusCodes: readonly number[];
  /** gRPC statuses (names or codes) retried on, from `grpc-status` in the response head or trailers. */
  readonly grpcStatuses: readonly (GrpcStatusName | number)[];
}

/** Why a finished attempt is not retried. */
export type NoRetryReason =
  /** The outcome is a success, or a failure the policy does not retry. */
  | 'not-retriable'
  /** Bytes of the response already went to the client: the exchange cannot be restarted. */
  | 'response-committed'
  /** The request body was not kept whole (larger than the replay buffer, or still streaming). */
  | 'body-not-replayable'
  | 'attempts-exhausted'
  /** The backoff would end past the request deadline. */
  | 'deadline'
  /** The retry budget of the destination is spent. */
  | 'budget-exhausted'
  /** The destination's limit of concurrent retries (`connectionPool.maxRetries`) is reached. */
  | 'retry-overflow';

export type RetryDecision =
  | { readonly retry: true; /** 1 for the first retry. */ readonly retryNumber: number; readonly delayMs: number }
  | { readonly retry: false; readonly reason: NoRetryReason };

/** The facts about one finished attempt that the decision reads. */
export interface AttemptFacts {
  readonly outcome: AttemptOutcome;
  /** Retries already made for this request. */
  readonly retries: number;
  /** The whole request body is buffered (within the replay bound) and can be sent again. */
  readonly bodyReplayable: boolean;
  /** Part of the response was already forwarded to the client. */
  readonly responseCommitted: boolean;
  /** Time left before the request deadline, in ms; undefined without a deadline. */
  readonly remainingMs?: number | undefined;
}

/** A policy checked and turned into lookups once, at config time. */
export interface CompiledRetryPolicy {
  readonly attempts: number;
  readonly backoff: BackoffSpec;
  readonly on: ReadonlySet<RetryCondition>;
  readonly statusCodes: ReadonlySet<number>;
  readonly grpcStatuses: ReadonlySet<number>;
}

export const compileRetryPolicy = (spec: RetryPolicySpec): CompiledRetryPolicy => {
  if (!Number.isSafeInteger(spec.attempts) || spec.attempts < 0) throw new RangeError(`retry policy: attempts must be a whole number >= 0 (got ${spec.attempts})`);
  const backoff = { baseMs: spec.backoff.baseMs, maxMs: spec.backoff.maxMs ?? maxBackoffFor(spec.backoff.baseMs) };
  if (!(backoff.baseMs >= 0) || !(backoff.maxMs >= backoff.baseMs)) {
    throw new RangeError(`retry policy: backoff needs 0 <= baseMs <= maxMs (got ${JSON.stringify(spec.backoff)})`);
  }
  for (const c of spec.retryOn) if (!RETRY_CONDITIONS.includes(c)) throw new RangeError(`retry policy: unknown condition ${JSON.stringify(c)}`);
  const grpcStatuses = spec.grpcStatuses.map((g) => {
    const code = typeof g === 'number' ? g : GRPC_STATUS_CODES[g];
    if (!Number.isInteger(code) || code < 1 || code > 16) throw new RangeError(`retry policy: unknown gRPC status ${JSON.stringify(g)}`);
    return code;
  });
  return {
    attempts: spec.attempts,
    backoff,
    on: new Set(spec.retryOn),
    statusCodes: new Set(spec.statusCodes),
    grpcStatuses: new Set(grpcStatuses),
  };
};

/**
 * Whether the policy retries this outcome, as Envoy reads `retry_on`: `5xx` covers every
 * 5xx and every attempt without a response; `gateway-error` covers 502/503/504 and every
 * attempt without a response; `reset`, `connect-failure` and `refused-stream` only their
 * own kind. A per-attempt timeout is retried under `5xx` and `gateway-error`.
 */
export const isRetriableOutcome = (policy: CompiledRetryPolicy, outcome: AttemptOutcome): boolean => {
  const on = policy.on;
  const broad = on.has('5xx') || on.has('gateway-error');
  switch (outcome.kind) {
    case 'response': {
      const s = outcome.status;
      if (outcome.grpcStatus !== undefined && outcome.grpcStatus !== 0 && policy.grpcStatuses.has(outcome.grpcStatus)) return true;
      if (policy.statusCodes.has(s)) return true;
      if (on.has('5xx') && s >= 500 && s <= 599) return true;
      return on.has('gateway-error') && (s === 502 || s === 503 || s === 504);
    }
    case 'connect-failure':
      return broad || on.has('connect-failure');
    case 'refused-stream':
      return broad || on.has('refused-stream');
    case 'reset':
      return broad || on.has('reset');
    case 'timeout':
      return broad;
  }
};

/**
 * The decision for a finished attempt, before the budget and the concurrent-retry limit
 * (which {@link RetryState} applies, because they take something). Pure: the same facts
 * and random source give the same answer.
 */
export const decideRetry = (policy: CompiledRetryPolicy, facts: AttemptFacts, random: Random): RetryDecision => {
  if (!isRetriableOutcome(policy, facts.outcome)) return { retry: false, reason: 'not-retriable' };
  if (facts.responseCommitted) return { retry: false, reason: 'response-committed' };
  if (!facts.bodyReplayable) return { retry: false, reason: 'body-not-replayable' };
  if (facts.retries >= policy.attempts) return { retry: false, reason: 'attempts-exhausted' };
  const retryNumber = facts.retries + 1;
  const delayMs = backoffDelayMs(retryNumber, policy.backoff, random);
  if (facts.remainingMs !== undefined && delayMs >= facts.remainingMs) return { retry: false, reason: 'deadline' };
  return { retry: true, retryNumber, delayMs };
};

/** Whether a no-retry reason means a retriable failure was given up on (flag `URX`). */
export const isRetryLimitReason = (reason: NoRetryReason): boolean =>
  reason === 'attempts-exhausted' || reason === 'budget-exhausted' || reason === 'retry-overflow';
