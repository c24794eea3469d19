import { RetryPolicySnapshotSchema, parseDuration, type GRPCRouteRetry, type HTTPRouteRetry, type HTTPRouteTimeouts, type MeshSpec, type RouteRule } from '@weft/api';
import { deepFreeze } from './freeze.js';

/**
 * A route rule's `timeouts` and `retry` in the snapshot's form (milliseconds, every
 * default spelled out), and the Mesh's route defaults that stand in for a rule that sets
 * neither, and for calls to a Service without routes.
 */

/** Timeouts and retry policy of one snapshot rule. */
export type RuleResilience = Pick<RouteRule, 'timeouts' | 'retry'>;

/** HTTPRoute `timeouts` in milliseconds; undefined when it sets no timeout. */
export const compileTimeouts = (t: HTTPRouteTimeouts | undefined): RouteRule['timeouts'] => {
  if (t === undefined || (t.request === undefined && t.backendRequest === undefined)) return undefined;
  return {
    ...(t.request === undefined ? {} : { requestMs: parseDuration(t.request) }),
    ...(t.backendRequest === undefined ? {} : { backendRequestMs: parseDuration(t.backendRequest) }),
  };
};

/** A retry policy compiled, or why proxies refuse it (a value past their limits). */
export type CompiledRetry = { readonly retry: RouteRule['retry']; readonly problem?: undefined } | { readonly retry?: undefined; readonly problem: string };

/** Resource field names of the snapshot's retry fields, for messages. */
const RETRY_FIELDS: Readonly<Record<string, string>> = { attempts: 'retry.attempts', backoff: 'retry.backoff', statusCodes: 'retry.codes', grpcStatuses: 'retry.codes' };

/**
 * HTTPRoute `retry` (and GRPCRoute's, a Weft extension) as the proxies' retry policy:
 * connect failures and refused streams are always retried (as the resource documents),
 * `codes` become `statusCodes` (HTTP statuses) or `grpcStatuses` (gRPC status names), `backoff` the
 * base of the exponential backoff. The resource allows values past the proxies' limits (more
 * than 100 attempts, a backoff over an hour): those are refused, never clamped.
 */
export const compileRetry = (r: HTTPRouteRetry | GRPCRouteRetry | undefined): CompiledRetry => {
  if (r === undefined) return { retry: undefined };
  const codes: readonly (number | string)[] = r.codes ?? [];
  // GRPCRoute `codes` are gRPC status names, HTTPRoute's HTTP statuses.
  const grpcStatuses = codes.filter((c): c is string => typeof c === 'string').sort();
  const statusCodes = codes.filter((c): c is number => typeof c === 'number').sort((a, b) => a - b);
  const parsed = RetryPolicySnapshotSchema.safeParse({
    ...(r.attempts === undefined ? {} : { attempts: r.attempts }),
    backoff: r.backoff === undefined ? {} : { baseMs: parseDuration(r.backoff) },
    statusCodes,
    ...(grpcStatuses.length === 0 ? {} : { grpcStatuses }),
  });
  if (parsed.success) return { retry: parsed.data };
  const issue = parsed.error.issues[0];
  const field = RETRY_FIELDS[String(issue?.path[0])] ?? 'retry';
  const limit = issue?.code === 'too_big' ? `at most ${field === 'retry.backoff' ? '1h' : String(issue.maximum)}` : (issue?.message ?? 'invalid');
  return { problem: `${field}: ${limit}, the most proxies apply` };
};

/**
 * The Mesh's route defaults, compiled once per context, and the problem with its retry
 * default when proxies refuse it (that default is then left out).
 */
export const compileRouteDefaults = (mesh: MeshSpec): { defaults: RuleResilience; problem?: string } => {
  const { timeouts, retry } = mesh.defaults.route;
  const r = compileRetry(retry);
  const defaults = deepFreeze(withResilience({}, compileTimeouts(timeouts), r.retry));
  return r.problem === undefined ? { defaults } : { defaults, problem: `defaults.route.${r.problem}; this default is not applied` };
};

/**
 * A rule's own timeouts and retry, each absent one taken from `defaults`; `problem` when
 * proxies refuse the rule's retry (the rule is then left out).
 */
export const ruleResilience = (own: { timeouts?: HTTPRouteTimeouts; retry?: HTTPRouteRetry | GRPCRouteRetry }, defaults: RuleResilience): RuleResilience & { problem?: string } => {
  const r = compileRetry(own.retry);
  const resilience = withResilience({}, compileTimeouts(own.timeouts) ?? defaults.timeouts, own.retry === undefined ? defaults.retry : r.retry);
  return r.problem === undefined ? resilience : { ...resilience, problem: r.problem };
};

/** `base` with the given timeouts and retry, leaving out those that are undefined. */
export const withResilience = <T extends object>(base: T, timeouts: RouteRule['timeouts'], retry: RouteRule['retry']): T & RuleResilience => ({
  ...base,
  ...(timeouts === undefined ? {} : { timeouts }),
  ...(retry === undefined ? {} : { retry }),
});
