import { z } from 'zod';
import { durationSchema, isDuration, parseDuration } from './duration.js';
import { count, distinctBy, headerName, labelValue, percentage } from './fields.js';
import { ObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';
import { ServiceTargetRefSchema } from './policy-target.js';

/**
 * `DestinationPolicy`: how callers reach one Service: load balancing, connection-pool and
 * circuit-breaker limits, outlier detection, active health checks, retry budget and
 * locality. Each section is optional; a section the policy leaves out comes from the
 * Mesh's `spec.defaults.destinationPolicy`, whose own defaults are listed there. A section
 * is taken whole: a policy that sets `outlierDetection` replaces the mesh's
 * `outlierDetection`, field defaults included, rather than merging field by field.
 */

/** What a consistent hash is computed from. */
export const HashKeySchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('HEADER'),
      name: headerName().describe('Header whose value is hashed; a request without it is balanced as by LEAST_REQUEST.'),
    }),
    z.strictObject({
      type: z.literal('COOKIE'),
      name: z.string().min(1).max(256).regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'must be a cookie name').describe('Cookie whose value is hashed.'),
      ttl: durationSchema({ min: '1s' })
        .optional()
        .describe('When set, a request without the cookie gets one generated, with this lifetime, so that the client sticks from its first request.'),
      path: z.string().startsWith('/', 'must start with "/"').max(1024).optional().describe('Path attribute of a generated cookie.'),
    }),
    z.strictObject({ type: z.literal('SOURCE_IP').describe('The caller\'s IP address.') }),
  ])
  .describe('What the hash is computed from: `HEADER` (with `name`), `COOKIE` (with `name`, optional `ttl` and `path`) or `SOURCE_IP`.');
export type HashKey = z.infer<typeof HashKeySchema>;

/** The load-balancing algorithm, and its parameters. */
export const LoadBalancerSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('ROUND_ROBIN') }),
    z.strictObject({
      type: z.literal('LEAST_REQUEST'),
      choiceCount: count(2, 100).default(2).describe('Endpoints sampled per pick; the one with fewest requests in flight wins (power of two choices).'),
    }),
    z.strictObject({
      type: z.literal('PEAK_EWMA'),
      decay: durationSchema({ min: '1ms', max: '1h' }).default('10s').describe('Decay time of the moving average of latency.'),
    }),
    z.strictObject({
      type: z.literal('RING_HASH'),
      hashKey: HashKeySchema,
      minimumRingSize: count(1, 8_388_608).default(1024).describe('Fewest entries on the ring.'),
      maximumRingSize: count(1, 8_388_608).default(8_388_608).describe('Most entries on the ring.'),
    }),
    z.strictObject({
      type: z.literal('MAGLEV'),
      hashKey: HashKeySchema,
      tableSize: count(1, 5_000_011)
        .refine(isPrime, 'must be a prime number (Maglev needs a prime table size)')
        .default(65_537)
        .describe('Lookup table size, a prime; larger remaps less when endpoints change.'),
    }),
  ])
  .superRefine((lb, ctx) => {
    if (lb.type === 'RING_HASH' && lb.minimumRingSize > lb.maximumRingSize) {
      ctx.addIssue({ code: 'custom', path: ['minimumRingSize'], message: 'must not exceed maximumRingSize' });
    }
  })
  .describe(
    '`type` and its parameters: `ROUND_ROBIN`; `LEAST_REQUEST` (`choiceCount`); `PEAK_EWMA` (`decay`); `RING_HASH` (`hashKey`, ring sizes) or `MAGLEV` (`hashKey`, `tableSize`) for consistent hashing with minimal remapping when an endpoint leaves.',
  );
export type LoadBalancer = z.infer<typeof LoadBalancerSchema>;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Connection-pool and circuit-breaker limits per upstream Service, as Envoy's thresholds. */
export const ConnectionPoolSchema = z
  .strictObject({
    maxConnections: count(1, 1_000_000).default(1024).describe('Most connections open to the Service, all endpoints together, from one proxy.'),
    maxPendingRequests: count(0, 1_000_000).default(1024).describe('Most requests waiting for a connection; beyond, 503 with flag `UO`.'),
    maxRequests: count(1, 1_000_000).default(1024).describe('Most requests in flight to the Service; beyond, 503 with flag `UO`.'),
    maxRetries: count(0, 1_000_000).default(3).describe('Most retries in flight to the Service at once; beyond, no more retries are attempted.'),
  })
  .describe('Connection-pool and circuit-breaker limits, per calling proxy. Over a limit a request fails fast with 503 and flag `UO`.');
export type ConnectionPool = z.infer<typeof ConnectionPoolSchema>;

/** Passive health: eject endpoints that fail, for a time that grows with repeated ejections. */
export const OutlierDetectionSchema = z
  .strictObject({
    consecutive5xx: count(0, 1_000_000).default(5).describe('5xx responses (and connect failures) in a row that eject an endpoint; 0 disables this check.'),
    consecutiveGatewayErrors: count(0, 1_000_000)
      .default(0)
      .describe('502, 503 and 504 responses (and connect failures) in a row that eject an endpoint; 0 (default) disables this check.'),
    interval: durationSchema({ min: '10ms', max: '1h' }).default('10s').describe('How often ejections are evaluated.'),
    baseEjectionTime: durationSchema({ min: '1ms', max: '24h' })
      .default('30s')
      .describe('Ejection time; an endpoint ejected n times stays out n × this, up to `maxEjectionTime`.'),
    maxEjectionTime: durationSchema({ min: '1ms', max: '24h' }).default('300s').describe('Longest ejection.'),
    maxEjectionPercent: count(0, 100)
      .default(10)
      .describe('Most endpoints of the Service ejected at once, in percent (rounded down, but one endpoint may always be ejected).'),
    successRate: z
      .strictObject({
        minimumHosts: count(1, 10_000).default(5).describe('Fewest endpoints with enough requests for the check to run.'),
        requestVolume: count(1, 1_000_000).default(100).describe('Fewest requests in an interval for an endpoint to be judged.'),
        stdevFactor: z.number().min(0.1).max(100).default(1.9).describe('An endpoint is ejected when its success rate is below mean − stdevFactor × standard deviation.'),
      })
      .optional()
      .describe('Also eject endpoints whose success rate is a statistical outlier. Off unless set.'),
  })
  .superRefine((o, ctx) => {
    if (o.consecutive5xx === 0 && o.consecutiveGatewayErrors === 0 && o.successRate === undefined) {
      ctx.addIssue({ code: 'custom', path: ['consecutive5xx'], message: 'every check is disabled: set consecutive5xx, consecutiveGatewayErrors or successRate' });
    }
    if (isDuration(o.baseEjectionTime) && isDuration(o.maxEjectionTime) && parseDuration(o.maxEjectionTime) < parseDuration(o.baseEjectionTime)) {
      ctx.addIssue({ code: 'custom', path: ['maxEjectionTime'], message: `must not be shorter than baseEjectionTime (${o.baseEjectionTime})` });
    }
  })
  .describe('Outlier detection (passive health checking): ejected endpoints get no traffic until their ejection time passes.');
export type OutlierDetection = z.infer<typeof OutlierDetectionSchema>;

const healthCheckCommon = {
  interval: durationSchema({ min: '100ms', max: '1h' }).default('10s').describe('Time between checks of one endpoint.'),
  timeout: durationSchema({ min: '10ms', max: '1h' }).default('1s').describe('A check that takes longer fails.'),
  healthyThreshold: count(1, 100).default(2).describe('Passing checks in a row that bring an unhealthy endpoint back.'),
  unhealthyThreshold: count(1, 100).default(3).describe('Failing checks in a row that mark an endpoint unhealthy.'),
};

/** Active health checks: HTTP GET of a path, or a TCP connect. */
export const HealthCheckSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('HTTP'),
      path: z.string().startsWith('/', 'must start with "/"').max(1024).default('/').describe('Path requested with GET.'),
      expectedStatuses: z
        .array(z.number().int().min(100).max(599))
        .min(1)
        .max(100)
        .optional()
        .describe('Statuses that count as healthy; default: 200 to 399.'),
      ...healthCheckCommon,
    }),
    z.strictObject({ type: z.literal('TCP'), ...healthCheckCommon }),
  ])
  .superRefine((h, ctx) => {
    // The fields check their own format; compare only well-formed values.
    if (!isDuration(h.timeout) || !isDuration(h.interval)) return;
    if (parseDuration(h.timeout) > parseDuration(h.interval)) ctx.addIssue({ code: 'custom', path: ['timeout'], message: `must not exceed interval (${h.interval})` });
  })
  .describe('Active health checks from each calling proxy: `HTTP` (GET `path`) or `TCP` (connect).');
export type HealthCheck = z.infer<typeof HealthCheckSchema>;

/** A retry budget, as Linkerd's: retries may add at most `ratio` of live traffic, plus a floor. */
export const RetryBudgetSchema = z
  .strictObject({
    ratio: z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').default(0.2).describe('Retries allowed as a share of original requests (0.2: 20% more load at most).'),
    minRetriesPerSecond: count(0, 1_000_000).default(10).describe('Retries always allowed per second, whatever the ratio, so that low-traffic services can retry.'),
    ttl: durationSchema({ min: '1s', max: '1h' }).default('10s').describe('Window over which requests and retries are counted.'),
  })
  .describe('Caps retries to the Service so that they cannot multiply an outage; retries over budget are not attempted.');
export type RetryBudget = z.infer<typeof RetryBudgetSchema>;

/** Locality-aware routing on the `zone` label of workloads. */
export const LocalitySchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Prefer endpoints in the caller\'s zone (the `zone` label of workloads).'),
    minHealthyPercentage: percentage()
      .default(70)
      .describe('When fewer than this share of the local zone\'s endpoints are healthy, traffic spills over to other zones in proportion.'),
    failover: z
      .array(
        z.strictObject({
          from: labelValue().min(1).describe('A caller zone.'),
          to: z.array(labelValue().min(1)).min(1).max(32).describe('Zones to fail over to, in order of preference.'),
        }),
      )
      .max(64)
      .superRefine(distinctBy((f: { from: string }) => f.from, 'zone', 'from'))
      .optional()
      .describe('Failover order per caller zone; a zone not listed fails over to all other zones alike.'),
  })
  .describe('Locality-aware load balancing: keep traffic in the caller\'s zone while it is healthy, fail over when it is not.');
export type Locality = z.infer<typeof LocalitySchema>;

/** The sections of a DestinationPolicy, each optional (see the file comment). */
export const destinationPolicySections = {
  loadBalancer: LoadBalancerSchema.optional(),
  connectionPool: ConnectionPoolSchema.optional(),
  outlierDetection: OutlierDetectionSchema.optional(),
  healthCheck: HealthCheckSchema.optional(),
  retryBudget: RetryBudgetSchema.optional(),
  locality: LocalitySchema.optional(),
};

/** `DestinationPolicy.spec`. */
export const DestinationPolicySpecSchema = z
  .strictObject({
    targetRef: ServiceTargetRefSchema,
    ...destinationPolicySections,
  })
  .describe('Traffic policy for calls to one Service; sections left out come from the Mesh defaults.');
export type DestinationPolicySpec = z.infer<typeof DestinationPolicySpecSchema>;

/** A `DestinationPolicy` resource. */
export const DestinationPolicySchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('DestinationPolicy'),
    metadata: ObjectMetaSchema,
    spec: DestinationPolicySpecSchema,
    status: ResourceStatusSchema.optional(),
  })
  .describe(
    'How callers reach one Service: load balancing (round robin, least request, peak-EWMA, consistent hashing), connection-pool and circuit-breaker limits, outlier detection, active health checks, retry budget, locality. At most one DestinationPolicy per Service (per port): when several target the same one, the oldest wins and the others are not Accepted.',
  );
export type DestinationPolicy = z.infer<typeof DestinationPolicySchema>;
export type DestinationPolicyInput = z.input<typeof DestinationPolicySchema>;
