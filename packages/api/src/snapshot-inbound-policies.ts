import {
  _default,
  array,
  extend,
  gte,
  int,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  refine,
  regex,
  strictObject,
  string,
  zenum,
  type Infer,
} from './zod-mini.js';
import { RateLimitSnapshotSchema, SnapshotGrpcStatusSchema } from './snapshot-policies.js';
import { RouteMatchSchema } from './snapshot-route-match.js';

/**
 * The snapshot forms of RateLimitPolicy (enforced by the callee's proxy, in `inbound`) and
 * FaultPolicy (applied by the caller's proxy, on its route rules, as Istio does). Durations
 * are whole milliseconds and defaults are the user-facing ones, applied by the compiler.
 */

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;

/** Where `mode: GLOBAL` keeps its buckets, and what happens when Redis cannot answer in time. */
export const SnapshotRedisSchema = strictObject({
  address: string().check(
    regex(HOST_PORT, 'must be HOST:PORT'),
    refine((a: string) => {
      const port = Number(a.slice(a.lastIndexOf(':') + 1));
      return port >= 1 && port <= 65535;
    }, 'port must be from 1 to 65535'),
  ),
  /** `OPEN` admits requests while Redis cannot answer; `CLOSED` refuses them. */
  failureMode: _default(zenum(['OPEN', 'CLOSED']), 'OPEN'),
  timeoutMs: _default(number().check(int(), gte(1), lte(10_000)), 100),
});
export type SnapshotRedis = Infer<typeof SnapshotRedisSchema>;

/**
 * Requests a policy applies to: those that meet any of these matches (route-match form).
 * A policy on an HTTPRoute or GRPCRoute carries the matches of the route's rules.
 */
const policyMatches = array(RouteMatchSchema).check(minLength(1), maxLength(1024));

/**
 * One RateLimitPolicy of the proxy's own Service: its limits (every one must admit a
 * request), kept in the proxy (`redis` absent) or in Redis, shared by every instance.
 * With `matches`, only requests that meet one of them are counted (and may be refused).
 */
export const InboundRateLimitSchema = extend(RateLimitSnapshotSchema, {
  /** `<namespace>/<name>` of the RateLimitPolicy, for logs. */
  policy: string().check(minLength(1), maxLength(63 + 1 + 253)),
  redis: optional(SnapshotRedisSchema),
  matches: optional(policyMatches),
});
export type InboundRateLimit = Infer<typeof InboundRateLimitSchema>;

/** The rate limits of the proxy's own Service, in policy name order; a request must pass them all. */
export const InboundRateLimitsSchema = array(InboundRateLimitSchema).check(maxLength(64));

/** A share of requests, 0 to 100 (fractions allowed). */
const share = number().check(gte(0), lte(100));

/** A FaultPolicy's delay. */
export const SnapshotFaultDelaySchema = strictObject({
  fixedDelayMs: number().check(int(), gte(1), lte(3_600_000)),
  percentage: _default(share, 100),
});

/** A FaultPolicy's abort: an HTTP status, or a gRPC status for gRPC calls. */
export const SnapshotFaultAbortSchema = strictObject({
  httpStatus: optional(number().check(int(), gte(200), lte(599))),
  grpcStatus: optional(SnapshotGrpcStatusSchema),
  percentage: _default(share, 100),
}).check(refine((a) => (a.httpStatus === undefined) !== (a.grpcStatus === undefined), { message: 'set exactly one of httpStatus or grpcStatus', path: ['httpStatus'] }));

/**
 * The faults of a route rule (or of every request to a Service, on its catch-all rule),
 * applied by the calling proxy before it forwards: a delay, then an abort, each to its own
 * share of requests; with `matches`, only to the rule's requests that meet one of them.
 * `policy` names the FaultPolicy in errors and logs.
 */
export const RouteFaultSchema = strictObject({
  policy: string().check(minLength(1), maxLength(63 + 1 + 253)),
  matches: optional(policyMatches),
  delay: optional(SnapshotFaultDelaySchema),
  abort: optional(SnapshotFaultAbortSchema),
}).check(refine((f) => f.delay !== undefined || f.abort !== undefined, { message: 'set delay, abort or both', path: ['delay'] }));
export type RouteFault = Infer<typeof RouteFaultSchema>;
