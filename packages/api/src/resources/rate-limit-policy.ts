import { z } from 'zod';
import { durationSchema } from './duration.js';
import { count, headerName } from './fields.js';
import { ObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';
import { ServiceOrRouteTargetRefSchema } from './policy-target.js';

/**
 * `RateLimitPolicy`: token buckets enforced on inbound, per Service or per route (rule).
 * Each limit is a bucket of `burst` tokens refilled with `tokens` every `interval`; a
 * request takes one token from the bucket of its key in every limit, and is refused with
 * 429, flag `RL` and `x-ratelimit-*` headers when any bucket is empty.
 *
 * `LOCAL` mode keeps buckets in each proxy (a Service with 3 instances admits up to 3 ×
 * the limit); `GLOBAL` mode shares them across instances through Redis.
 */

/** What a bucket is kept per. */
export const RateLimitKeySchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('OVERALL').describe('One bucket for all callers.') }),
    z.strictObject({ type: z.literal('SOURCE_IDENTITY').describe("One bucket per caller identity (SPIFFE ID; the caller's address for plaintext callers).") }),
    z.strictObject({
      type: z.literal('HEADER'),
      name: headerName().describe('One bucket per value of this request header; requests without it share one bucket.'),
    }),
  ])
  .describe('`OVERALL` (one bucket), `SOURCE_IDENTITY` (per caller) or `HEADER` (per value of header `name`).');
export type RateLimitKey = z.infer<typeof RateLimitKeySchema>;

/** One token bucket. */
export const RateLimitSchema = z
  .strictObject({
    tokens: count(1, 1_000_000_000).describe('Tokens added to the bucket every `interval` (the sustained rate).'),
    interval: durationSchema({ min: '1ms', max: '24h' }).default('1s').describe('Refill period.'),
    burst: count(1, 1_000_000_000).optional().describe('Bucket capacity: most requests admitted at once after a quiet period. Default: `tokens`.'),
    key: RateLimitKeySchema.default({ type: 'OVERALL' }),
  })
  .refine((l) => l.burst === undefined || l.burst >= l.tokens, { message: 'must be at least tokens (a bucket holds at least one refill)', path: ['burst'] })
  .describe('A token bucket: `tokens` per `interval`, holding at most `burst`, kept per `key`.');
export type RateLimit = z.infer<typeof RateLimitSchema>;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;

/** Where GLOBAL mode keeps its buckets. */
export const RedisSchema = z
  .strictObject({
    address: z
      .string()
      .regex(HOST_PORT, 'must be HOST:PORT, e.g. "127.0.0.1:6379"')
      .refine((a) => {
        const port = Number(a.slice(a.lastIndexOf(':') + 1));
        return port >= 1 && port <= 65535;
      }, 'port must be from 1 to 65535')
      .describe('Redis address as `HOST:PORT`.'),
    failureMode: z
      .enum(['OPEN', 'CLOSED'])
      .default('OPEN')
      .describe('When Redis cannot be reached in time: `OPEN` (default) admits requests; `CLOSED` refuses them.'),
    timeout: durationSchema({ min: '1ms', max: '10s' }).default('100ms').describe('Longest wait for Redis before `failureMode` applies.'),
  })
  .describe('The Redis server holding the shared buckets.');
export type Redis = z.infer<typeof RedisSchema>;

/** `RateLimitPolicy.spec`. */
export const RateLimitPolicySpecSchema = z
  .strictObject({
    targetRef: ServiceOrRouteTargetRefSchema,
    mode: z.enum(['LOCAL', 'GLOBAL']).default('LOCAL').describe('`LOCAL` (default): buckets per proxy. `GLOBAL`: buckets shared through `redis`.'),
    redis: RedisSchema.optional().describe('Required with `mode: GLOBAL`.'),
    limits: z.array(RateLimitSchema).min(1, 'must list at least one limit').max(16).describe('Buckets a request must all pass. At least one, at most 16.'),
  })
  .superRefine((s, ctx) => {
    if (s.mode === 'GLOBAL' && s.redis === undefined) ctx.addIssue({ code: 'custom', path: ['redis'], message: 'must be set when mode is GLOBAL' });
    if (s.mode === 'LOCAL' && s.redis !== undefined) ctx.addIssue({ code: 'custom', path: ['redis'], message: 'is only used with mode: GLOBAL; remove it or set mode: GLOBAL' });
  })
  .describe('Rate limits for the target.');
export type RateLimitPolicySpec = z.infer<typeof RateLimitPolicySpecSchema>;

/** A `RateLimitPolicy` resource. */
export const RateLimitPolicySchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('RateLimitPolicy'),
    metadata: ObjectMetaSchema,
    spec: RateLimitPolicySpecSchema,
    status: ResourceStatusSchema.optional(),
  })
  .describe(
    'Token-bucket rate limits on calls to a Service or route, by source identity, header or overall; per proxy, or shared across instances through Redis. Over the limit: 429 with flag `RL`.',
  );
export type RateLimitPolicy = z.infer<typeof RateLimitPolicySchema>;
export type RateLimitPolicyInput = z.input<typeof RateLimitPolicySchema>;
