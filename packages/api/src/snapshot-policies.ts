import {
  _default,
  array,
  boolean,
  discriminatedUnion,
  gte,
  int,
  literal,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  prefault,
  refine,
  regex,
  startsWith,
  strictObject,
  string,
  superRefine,
  zenum,
  type Infer,
} from './zod-mini.js';
import { GRPC_STATUS_NAMES } from './grpc-status.js';

/**
 * The policy sections of the proxy snapshot: what the control plane compiles
 * DestinationPolicy, RateLimitPolicy and HTTPRoute `retry` into for one proxy, with the
 * Mesh defaults already applied. Durations are whole milliseconds and every default is
 * the user-facing one, so a proxy never needs the resource kinds to read them (the data
 * plane does not build the resource schemas). Each shape is what the proxy's policy
 * engine of the same name takes (packages/proxy/src/resilience and balancing).
 */

const whole = (min: number, max: number) => number().check(int(), gte(min), lte(max));
const ms = (min: number, max: number) => whole(min, max);
const lowerHeaderName = string().check(minLength(1), maxLength(256), regex(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/, 'must be a lower-case HTTP header name'));
const zoneName = string().check(minLength(1), maxLength(63));

const isPrime = (n: number): boolean => {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
};

/** What a consistent hash is computed from. */
export const SnapshotHashKeySchema = discriminatedUnion('type', [
  strictObject({ type: literal('HEADER'), name: lowerHeaderName }),
  strictObject({
    type: literal('COOKIE'),
    name: string().check(minLength(1), maxLength(256), regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name')),
    /** Set: a request without the cookie gets one made, with this lifetime. */
    ttlMs: optional(ms(1000, 10 * 365 * 86_400_000)),
    path: optional(string().check(startsWith('/'), maxLength(1024))),
  }),
  strictObject({ type: literal('SOURCE_IP') }),
]);
export type SnapshotHashKey = Infer<typeof SnapshotHashKeySchema>;

/** The load-balancing algorithm and its parameters. */
export const SnapshotLoadBalancerSchema = discriminatedUnion('type', [
  strictObject({ type: literal('ROUND_ROBIN') }),
  strictObject({ type: literal('LEAST_REQUEST'), choiceCount: _default(whole(2, 100), 2) }),
  strictObject({ type: literal('PEAK_EWMA'), decayMs: _default(ms(1, 3_600_000), 10_000) }),
  strictObject({
    type: literal('RING_HASH'),
    hashKey: SnapshotHashKeySchema,
    minimumRingSize: _default(whole(1, 8_388_608), 1024),
    maximumRingSize: _default(whole(1, 8_388_608), 8_388_608),
  }),
  strictObject({
    type: literal('MAGLEV'),
    hashKey: SnapshotHashKeySchema,
    tableSize: _default(whole(2, 5_000_011).check(refine(isPrime, 'must be a prime number')), 65_537),
  }),
]).check(
  superRefine((lb, ctx) => {
    if (lb.type === 'RING_HASH' && lb.minimumRingSize > lb.maximumRingSize) {
      ctx.addIssue({ code: 'custom', path: ['minimumRingSize'], message: 'must not exceed maximumRingSize' });
    }
  }),
);
export type SnapshotLoadBalancer = Infer<typeof SnapshotLoadBalancerSchema>;

/** Connection-pool and circuit-breaker limits, per calling proxy and upstream Service. */
export const SnapshotConnectionPoolSchema = strictObject({
  maxConnections: _default(whole(1, 1_000_000), 1024),
  maxPendingRequests: _default(whole(0, 1_000_000), 1024),
  maxRequests: _default(whole(1, 1_000_000), 1024),
  maxRetries: _default(whole(0, 1_000_000), 3),
});
export type SnapshotConnectionPool = Infer<typeof SnapshotConnectionPoolSchema>;

/** Outlier detection (passive health). */
export const SnapshotOutlierDetectionSchema = strictObject({
  consecutive5xx: _default(whole(0, 1_000_000), 5),
  consecutiveGatewayErrors: _default(whole(0, 1_000_000), 0),
  intervalMs: _default(ms(10, 3_600_000), 10_000),
  baseEjectionTimeMs: _default(ms(1, 86_400_000), 30_000),
  maxEjectionTimeMs: _default(ms(1, 86_400_000), 300_000),
  maxEjectionPercent: _default(whole(0, 100), 10),
  successRate: optional(
    strictObject({
      minimumHosts: _default(whole(1, 10_000), 5),
      requestVolume: _default(whole(1, 1_000_000), 100),
      stdevFactor: _default(number().check(gte(0.1), lte(100)), 1.9),
    }),
  ),
}).check(
  superRefine((o, ctx) => {
    if (o.maxEjectionTimeMs < o.baseEjectionTimeMs) ctx.addIssue({ code: 'custom', path: ['maxEjectionTimeMs'], message: 'must not be shorter than baseEjectionTimeMs' });
  }),
);
export type SnapshotOutlierDetection = Infer<typeof SnapshotOutlierDetectionSchema>;

const healthCheckTiming = {
  intervalMs: _default(ms(100, 3_600_000), 10_000),
  timeoutMs: _default(ms(10, 3_600_000), 1000),
  healthyThreshold: _default(whole(1, 100), 2),
  unhealthyThreshold: _default(whole(1, 100), 3),
};

/** Active health checks: HTTP GET of a path, or a TCP connect. */
export const SnapshotHealthCheckSchema = discriminatedUnion('type', [
  strictObject({
    type: literal('HTTP'),
    path: _default(string().check(startsWith('/'), maxLength(1024)), '/'),
    /** Statuses that pass; absent: 200 to 399. */
    expectedStatuses: optional(array(whole(100, 599)).check(minLength(1), maxLength(100))),
    ...healthCheckTiming,
  }),
  strictObject({ type: literal('TCP'), ...healthCheckTiming }),
]).check(
  superRefine((h, ctx) => {
    if (h.timeoutMs > h.intervalMs) ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'must not exceed intervalMs' });
  }),
);
export type SnapshotHealthCheck = Infer<typeof SnapshotHealthCheckSchema>;

/** The retry budget of an upstream Service. */
export const SnapshotRetryBudgetSchema = strictObject({
  ratio: _default(number().check(gte(0), lte(1)), 0.2),
  minRetriesPerSecond: _default(whole(0, 1_000_000), 10),
  ttlMs: _default(ms(1000, 3_600_000), 10_000),
});
export type SnapshotRetryBudget = Infer<typeof SnapshotRetryBudgetSchema>;

/** Locality-aware routing on the `zone` label. */
export const SnapshotLocalitySchema = strictObject({
  enabled: _default(boolean(), true),
  minHealthyPercentage: _default(number().check(gte(0), lte(100)), 70),
  failover: optional(array(strictObject({ from: zoneName, to: array(zoneName).check(minLength(1), maxLength(32)) })).check(maxLength(64))),
});
export type SnapshotLocality = Infer<typeof SnapshotLocalitySchema>;

/**
 * How this proxy reaches one upstream Service: the DestinationPolicy targeting it, with
 * every section it leaves out taken whole from the Mesh defaults. Sections without a
 * default (outlier detection, health checks, locality) are absent when off.
 */
export const DestinationPolicySnapshotSchema = strictObject({
  loadBalancer: _default(SnapshotLoadBalancerSchema, () => ({ type: 'LEAST_REQUEST' as const, choiceCount: 2 })),
  connectionPool: prefault(SnapshotConnectionPoolSchema, {}),
  outlierDetection: optional(SnapshotOutlierDetectionSchema),
  healthCheck: optional(SnapshotHealthCheckSchema),
  retryBudget: prefault(SnapshotRetryBudgetSchema, {}),
  locality: optional(SnapshotLocalitySchema),
});
export type DestinationPolicySnapshot = Infer<typeof DestinationPolicySnapshotSchema>;

/** Conditions an attempt is retried on (Envoy's `retry_on` names). */
export const SnapshotRetryConditionSchema = zenum(['connect-failure', 'refused-stream', 'reset', '5xx', 'gateway-error']);

/** gRPC status names (every canonical code but `OK`). */
export const SnapshotGrpcStatusSchema = zenum(GRPC_STATUS_NAMES);

/**
 * The retry policy of a route rule. HTTPRoute `retry` compiles to `retryOn:
 * [connect-failure, refused-stream]` (always retried, as its documentation says), its
 * `codes` as `statusCodes`, `attempts` (default 2) and `backoff` as `backoff.baseMs`.
 */
export const RetryPolicySnapshotSchema = strictObject({
  attempts: _default(whole(0, 100), 2),
  backoff: prefault(
    strictObject({
      baseMs: _default(ms(0, 3_600_000), 25),
      /** Absent: ten times `baseMs`, as Envoy. */
      maxMs: optional(ms(0, 3_600_000)),
    }),
    {},
  ),
  retryOn: _default(array(SnapshotRetryConditionSchema).check(maxLength(5)), ['connect-failure', 'refused-stream']),
  statusCodes: _default(array(whole(400, 599)).check(maxLength(200)), []),
  grpcStatuses: _default(array(SnapshotGrpcStatusSchema).check(maxLength(16)), []),
  /** A request whose body is larger is not retried (the body is not kept to replay). */
  maxReplayBodyBytes: _default(whole(0, 64 * 1024 * 1024), 64 * 1024),
}).check(
  superRefine((r, ctx) => {
    if (r.backoff.maxMs !== undefined && r.backoff.maxMs < r.backoff.baseMs) ctx.addIssue({ code: 'custom', path: ['backoff', 'maxMs'], message: 'must not be less than baseMs' });
  }),
);
export type RetryPolicySnapshot = Infer<typeof RetryPolicySnapshotSchema>;

/** What a rate-limit bucket is kept per. */
export const SnapshotRateLimitKeySchema = discriminatedUnion('type', [
  strictObject({ type: literal('OVERALL') }),
  strictObject({ type: literal('SOURCE_IDENTITY') }),
  strictObject({ type: literal('HEADER'), name: lowerHeaderName }),
]);

/** One token bucket of a RateLimitPolicy. */
export const SnapshotRateLimitSchema = strictObject({
  /** Names the limit in `RateLimit` headers and metrics (printable ASCII, no quotes). */
  name: string().check(minLength(1), maxLength(64), regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without " or \\')),
  tokens: whole(1, 1_000_000_000),
  intervalMs: _default(ms(1, 86_400_000), 1000),
  /** Capacity; the compiler sets it to `tokens` when the policy leaves `burst` out. */
  burst: whole(1, 1_000_000_000),
  key: _default(SnapshotRateLimitKeySchema, { type: 'OVERALL' }),
}).check(refine((l) => l.burst >= l.tokens, { path: ['burst'], message: 'must be at least tokens' }));

/** The local rate limits of a Service or route (`mode: LOCAL`; `GLOBAL` is not in the snapshot yet). */
export const RateLimitSnapshotSchema = strictObject({
  limits: array(SnapshotRateLimitSchema).check(minLength(1), maxLength(16)),
  /** Most keys kept per limit; past it the least recently used key is dropped. */
  maxKeys: _default(whole(1, 10_000_000), 65_536),
});
export type RateLimitSnapshot = Infer<typeof RateLimitSnapshotSchema>;
