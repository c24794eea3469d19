import { z } from 'zod';
import { GRPC_STATUS_NAMES } from './grpc-status.js';

/**
 * The policy sections of the proxy snapshot: what the control plane compiles
 * DestinationPolicy, RateLimitPolicy and HTTPRoute `retry` into for one proxy, with the
 * Mesh defaults already applied. Durations are whole milliseconds and every default is
 * the user-facing one, so a proxy never needs the resource kinds to read them (the data
 * plane does not build the resource schemas). Each shape is what the proxy's policy
 * engine of the same name takes (packages/proxy/src/resilience and balancing).
 */

const whole = (min: number, max: number) => z.number().int().min(min).max(max);
const ms = (min: number, max: number) => whole(min, max);
const lowerHeaderName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/, 'must be a lower-case HTTP header name');
const zoneName = z.string().min(1).max(63);

const isPrime = (n: number): boolean => {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
};

/** What a consistent hash is computed from. */
export const SnapshotHashKeySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('HEADER'), name: lowerHeaderName }),
  z.strictObject({
    type: z.literal('COOKIE'),
    name: z.string().min(1).max(256).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name'),
    /** Set: a request without the cookie gets one made, with this lifetime. */
    ttlMs: ms(1000, 10 * 365 * 86_400_000).optional(),
    path: z.string().startsWith('/').max(1024).optional(),
  }),
  z.strictObject({ type: z.literal('SOURCE_IP') }),
]);
export type SnapshotHashKey = z.infer<typeof SnapshotHashKeySchema>;

/** The load-balancing algorithm and its parameters. */
export const SnapshotLoadBalancerSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('ROUND_ROBIN') }),
    z.strictObject({ type: z.literal('LEAST_REQUEST'), choiceCount: whole(2, 100).default(2) }),
    z.strictObject({ type: z.literal('PEAK_EWMA'), decayMs: ms(1, 3_600_000).default(10_000) }),
    z.strictObject({
      type: z.literal('RING_HASH'),
      hashKey: SnapshotHashKeySchema,
      minimumRingSize: whole(1, 8_388_608).default(1024),
      maximumRingSize: whole(1, 8_388_608).default(8_388_608),
    }),
    z.strictObject({
      type: z.literal('MAGLEV'),
      hashKey: SnapshotHashKeySchema,
      tableSize: whole(2, 5_000_011).refine(isPrime, 'must be a prime number').default(65_537),
    }),
  ])
  .superRefine((lb, ctx) => {
    if (lb.type === 'RING_HASH' && lb.minimumRingSize > lb.maximumRingSize) {
      ctx.addIssue({ code: 'custom', path: ['minimumRingSize'], message: 'must not exceed maximumRingSize' });
    }
  });
export type SnapshotLoadBalancer = z.infer<typeof SnapshotLoadBalancerSchema>;

/** Connection-pool and circuit-breaker limits, per calling proxy and upstream Service. */
export const SnapshotConnectionPoolSchema = z.strictObject({
  maxConnections: whole(1, 1_000_000).default(1024),
  maxPendingRequests: whole(0, 1_000_000).default(1024),
  maxRequests: whole(1, 1_000_000).default(1024),
  maxRetries: whole(0, 1_000_000).default(3),
});
export type SnapshotConnectionPool = z.infer<typeof SnapshotConnectionPoolSchema>;

/** Outlier detection (passive health). */
export const SnapshotOutlierDetectionSchema = z
  .strictObject({
    consecutive5xx: whole(0, 1_000_000).default(5),
    consecutiveGatewayErrors: whole(0, 1_000_000).default(0),
    intervalMs: ms(10, 3_600_000).default(10_000),
    baseEjectionTimeMs: ms(1, 86_400_000).default(30_000),
    maxEjectionTimeMs: ms(1, 86_400_000).default(300_000),
    maxEjectionPercent: whole(0, 100).default(10),
    successRate: z
      .strictObject({
        minimumHosts: whole(1, 10_000).default(5),
        requestVolume: whole(1, 1_000_000).default(100),
        stdevFactor: z.number().min(0.1).max(100).default(1.9),
      })
      .optional(),
  })
  .superRefine((o, ctx) => {
    if (o.maxEjectionTimeMs < o.baseEjectionTimeMs) ctx.addIssue({ code: 'custom', path: ['maxEjectionTimeMs'], message: 'must not be shorter than baseEjectionTimeMs' });
  });
export type SnapshotOutlierDetection = z.infer<typeof SnapshotOutlierDetectionSchema>;

const healthCheckTiming = {
  intervalMs: ms(100, 3_600_000).default(10_000),
  timeoutMs: ms(10, 3_600_000).default(1000),
  healthyThreshold: whole(1, 100).default(2),
  unhealthyThreshold: whole(1, 100).default(3),
};

/** Active health checks: HTTP GET of a path, or a TCP connect. */
export const SnapshotHealthCheckSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('HTTP'),
      path: z.string().startsWith('/').max(1024).default('/'),
      /** Statuses that pass; absent: 200 to 399. */
      expectedStatuses: z.array(whole(100, 599)).min(1).max(100).optional(),
      ...healthCheckTiming,
    }),
    z.strictObject({ type: z.literal('TCP'), ...healthCheckTiming }),
  ])
  .superRefine((h, ctx) => {
    if (h.timeoutMs > h.intervalMs) ctx.addIssue({ code: 'custom', path: ['timeoutMs'], message: 'must not exceed intervalMs' });
  });
export type SnapshotHealthCheck = z.infer<typeof SnapshotHealthCheckSchema>;

/** The retry budget of an upstream Service. */
export const SnapshotRetryBudgetSchema = z.strictObject({
  ratio: z.number().min(0).max(1).default(0.2),
  minRetriesPerSecond: whole(0, 1_000_000).default(10),
  ttlMs: ms(1000, 3_600_000).default(10_000),
});
export type SnapshotRetryBudget = z.infer<typeof SnapshotRetryBudgetSchema>;

/** Locality-aware routing on the `zone` label. */
export const SnapshotLocalitySchema = z.strictObject({
  enabled: z.boolean().default(true),
  minHealthyPercentage: z.number().min(0).max(100).default(70),
  failover: z
    .array(z.strictObject({ from: zoneName, to: z.array(zoneName).min(1).max(32) }))
    .max(64)
    .optional(),
});
export type SnapshotLocality = z.infer<typeof SnapshotLocalitySchema>;

/**
 * How this proxy reaches one upstream Service: the DestinationPolicy targeting it, with
 * every section it leaves out taken whole from the Mesh defaults. Sections without a
 * default (outlier detection, health checks, locality) are absent when off.
 */
export const DestinationPolicySnapshotSchema = z.strictObject({
  loadBalancer: SnapshotLoadBalancerSchema.default(() => ({ type: 'LEAST_REQUEST' as const, choiceCount: 2 })),
  connectionPool: SnapshotConnectionPoolSchema.prefault({}),
  outlierDetection: SnapshotOutlierDetectionSchema.optional(),
  healthCheck: SnapshotHealthCheckSchema.optional(),
  retryBudget: SnapshotRetryBudgetSchema.prefault({}),
  locality: SnapshotLocalitySchema.optional(),
});
export type DestinationPolicySnapshot = z.infer<typeof DestinationPolicySnapshotSchema>;

/** Conditions an attempt is retried on (Envoy's `retry_on` names). */
export const SnapshotRetryConditionSchema = z.enum(['connect-failure', 'refused-stream', 'reset', '5xx', 'gateway-error']);

/** gRPC status names (every canonical code but `OK`). */
export const SnapshotGrpcStatusSchema = z.enum(GRPC_STATUS_NAMES);

/**
 * The retry policy of a route rule. HTTPRoute `retry` compiles to `retryOn:
 * [connect-failure, refused-stream]` (always retried, as its documentation says), its
 * `codes` as `statusCodes`, `attempts` (default 2) and `backoff` as `backoff.baseMs`.
 */
export const RetryPolicySnapshotSchema = z
  .strictObject({
    attempts: whole(0, 100).default(2),
    backoff: z
      .strictObject({
        baseMs: ms(0, 3_600_000).default(25),
        /** Absent: ten times `baseMs`, as Envoy. */
        maxMs: ms(0, 3_600_000).optional(),
      })
      .prefault({}),
    retryOn: z.array(SnapshotRetryConditionSchema).max(5).default(['connect-failure', 'refused-stream']),
    statusCodes: z.array(whole(400, 599)).max(200).default([]),
    grpcStatuses: z.array(SnapshotGrpcStatusSchema).max(16).default([]),
    /** A request whose body is larger is not retried (the body is not kept to replay). */
    maxReplayBodyBytes: whole(0, 64 * 1024 * 1024).default(64 * 1024),
  })
  .superRefine((r, ctx) => {
    if (r.backoff.maxMs !== undefined && r.backoff.maxMs < r.backoff.baseMs) ctx.addIssue({ code: 'custom', path: ['backoff', 'maxMs'], message: 'must not be less than baseMs' });
  });
export type RetryPolicySnapshot = z.infer<typeof RetryPolicySnapshotSchema>;

/** What a rate-limit bucket is kept per. */
export const SnapshotRateLimitKeySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('OVERALL') }),
  z.strictObject({ type: z.literal('SOURCE_IDENTITY') }),
  z.strictObject({ type: z.literal('HEADER'), name: lowerHeaderName }),
]);

/** One token bucket of a RateLimitPolicy. */
export const SnapshotRateLimitSchema = z
  .strictObject({
    /** Names the limit in `RateLimit` headers and metrics (printable ASCII, no quotes). */
    name: z.string().min(1).max(64).regex(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/, 'must be printable ASCII without " or \\'),
    tokens: whole(1, 1_000_000_000),
    intervalMs: ms(1, 86_400_000).default(1000),
    /** Capacity; the compiler sets it to `tokens` when the policy leaves `burst` out. */
    burst: whole(1, 1_000_000_000),
    key: SnapshotRateLimitKeySchema.default({ type: 'OVERALL' }),
  })
  .refine((l) => l.burst >= l.tokens, { path: ['burst'], message: 'must be at least tokens' });

/** The local rate limits of a Service or route (`mode: LOCAL`; `GLOBAL` is not in the snapshot yet). */
export const RateLimitSnapshotSchema = z.strictObject({
  limits: z.array(SnapshotRateLimitSchema).min(1).max(16),
  /** Most keys kept per limit; past it the least recently used key is dropped. */
  maxKeys: whole(1, 10_000_000).default(65_536),
});
export type RateLimitSnapshot = z.infer<typeof RateLimitSnapshotSchema>;
