import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRPC_STATUS_CODES, parseGrpcStatus, type AttemptOutcome } from './attempt-outcome.js';
import { compileRetryPolicy, decideRetry, isRetriableOutcome, isRetryLimitReason, type RetryCondition } from './retry-policy.js';

const policy = (retryOn: RetryCondition[], extra: { statusCodes?: number[]; grpcStatuses?: ('UNAVAILABLE' | 'RESOURCE_EXHAUSTED' | number)[]; attempts?: number } = {}) =>
  compileRetryPolicy({ attempts: extra.attempts ?? 2, backoff: { baseMs: 25 }, retryOn, statusCodes: extra.statusCodes ?? [], grpcStatuses: extra.grpcStatuses ?? [] });

const res = (status: number, grpcStatus?: number): AttemptOutcome => ({ kind: 'response', status, grpcStatus });
const OUTCOMES: Record<string, AttemptOutcome> = {
  '200': res(200),
  '404': res(404),
  '429': res(429),
  '500': res(500),
  '501': res(501),
  '502': res(502),
  '503': res(503),
  '504': res(504),
  'connect-failure': { kind: 'connect-failure' },
  'refused-stream': { kind: 'refused-stream' },
  reset: { kind: 'reset' },
  timeout: { kind: 'timeout' },
  'grpc-unavailable': res(200, GRPC_STATUS_CODES.UNAVAILABLE),
  'grpc-internal': res(200, GRPC_STATUS_CODES.INTERNAL),
};

test('retry conditions, as Envoy reads retry_on', () => {
  const table: [string, RetryCondition[], string[]][] = [
    ['5xx', ['5xx'], ['500', '501', '502', '503', '504', 'connect-failure', 'refused-stream', 'reset', 'timeout']],
    ['gateway-error', ['gateway-error'], ['502', '503', '504', 'connect-failure', 'refused-stream', 'reset', 'timeout']],
    ['connect-failure', ['connect-failure'], ['connect-failure']],
    ['refused-stream', ['refused-stream'], ['refused-stream']],
    ['reset', ['reset'], ['reset']],
    ['HTTPRoute defaults', ['connect-failure', 'refused-stream'], ['connect-failure', 'refused-stream']],
    ['nothing', [], []],
  ];
  for (const [name, on, retried] of table) {
    const p = policy(on);
    const got = Object.keys(OUTCOMES).filter((k) => isRetriableOutcome(p, OUTCOMES[k] ?? res(0)));
    assert.deepEqual(got, retried, name);
  }
});

test('listed statuses and gRPC statuses (from the head or trailers) are retried too', () => {
  const p = policy(['connect-failure'], { statusCodes: [429, 503], grpcStatuses: ['UNAVAILABLE', 8] });
  assert.equal(isRetriableOutcome(p, res(429)), true);
  assert.equal(isRetriableOutcome(p, res(503)), true);
  assert.equal(isRetriableOutcome(p, res(502)), false);
  assert.equal(isRetriableOutcome(p, res(200, 14)), true, 'UNAVAILABLE by name');
  assert.equal(isRetriableOutcome(p, res(200, 8)), true, 'RESOURCE_EXHAUSTED by code');
  assert.equal(isRetriableOutcome(p, res(200, 13)), false, 'INTERNAL not listed');
  assert.equal(isRetriableOutcome(p, res(200, 0)), false, 'OK is never retried');
  assert.equal(isRetriableOutcome(p, res(200)), false);
});

test('grpc-status values are read strictly', () => {
  assert.equal(parseGrpcStatus('14'), 14);
  assert.equal(parseGrpcStatus(' 0 '), 0);
  for (const bad of [undefined, '', 'x', '17', '-1', '1.0', '999', '0x1']) assert.equal(parseGrpcStatus(bad), undefined, String(bad));
});

test('the decision table: attempts, replayable bodies, committed responses, deadlines', () => {
  const p = policy(['5xx'], { attempts: 2 });
  const facts = { outcome: res(503), retries: 0, bodyReplayable: true, responseCommitted: false };
  const half = () => 0.5;
  assert.deepEqual(decideRetry(p, facts, half), { retry: true, retryNumber: 1, delayMs: 12 });
  assert.deepEqual(decideRetry(p, { ...facts, retries: 1 }, half), { retry: true, retryNumber: 2, delayMs: 25 });
  assert.deepEqual(decideRetry(p, { ...facts, retries: 2 }, half), { retry: false, reason: 'attempts-exhausted' });
  assert.deepEqual(decideRetry(p, { ...facts, outcome: res(200) }, half), { retry: false, reason: 'not-retriable' });
  assert.deepEqual(decideRetry(p, { ...facts, outcome: res(404) }, half), { retry: false, reason: 'not-retriable' });
  assert.deepEqual(decideRetry(p, { ...facts, bodyReplayable: false }, half), { retry: false, reason: 'body-not-replayable' });
  assert.deepEqual(decideRetry(p, { ...facts, responseCommitted: true }, half), { retry: false, reason: 'response-committed' });
  assert.deepEqual(decideRetry(p, { ...facts, remainingMs: 12 }, half), { retry: false, reason: 'deadline' });
  assert.deepEqual(decideRetry(p, { ...facts, remainingMs: 13 }, half), { retry: true, retryNumber: 1, delayMs: 12 });
  assert.deepEqual(decideRetry(policy(['5xx'], { attempts: 0 }), facts, half), { retry: false, reason: 'attempts-exhausted' });
});

test('only giving up on a retriable failure is a retry limit (flag URX)', () => {
  assert.deepEqual(
    (['not-retriable', 'response-committed', 'body-not-replayable', 'attempts-exhausted', 'deadline', 'budget-exhausted', 'retry-overflow'] as const).filter(isRetryLimitReason),
    ['attempts-exhausted', 'budget-exhausted', 'retry-overflow'],
  );
});

test('bad policies are refused', () => {
  const ok = { attempts: 1, backoff: { baseMs: 25 }, retryOn: [] as RetryCondition[], statusCodes: [], grpcStatuses: [] };
  assert.equal(compileRetryPolicy(ok).backoff.maxMs, 250, 'max backoff defaults to ten times the base');
  assert.throws(() => compileRetryPolicy({ ...ok, attempts: -1 }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, attempts: 1.5 }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, backoff: { baseMs: 100, maxMs: 50 } }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, backoff: { baseMs: -1 } }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, retryOn: ['4xx' as RetryCondition] }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, grpcStatuses: [0] }), RangeError, 'OK is not a failure');
  assert.throws(() => compileRetryPolicy({ ...ok, grpcStatuses: [17] }), RangeError);
  assert.throws(() => compileRetryPolicy({ ...ok, grpcStatuses: ['NOPE' as 'UNAVAILABLE'] }), RangeError);
});
