import type { MetricsRegistry } from '../telemetry/registry.js';
import { rateLimitCounts } from './rate-limit-counts.js';

/**
 * `weft_proxy_rate_limited_requests_total{policy,limit}` and
 * `weft_proxy_rate_limit_redis_errors_total`, read from the process's rate-limit counts at
 * each scrape, so that the request path only bumps numbers.
 */
export const registerRateLimitMetrics = (registry: MetricsRegistry): void => {
  const seen = new Map<string, number>();
  registry.counter('weft_proxy_rate_limited_requests_total', 'Inbound requests refused by a RateLimitPolicy, by policy and by the limit that refused.', ['policy', 'limit'], (c) => {
    for (const [key, now] of rateLimitCounts.refused) {
      const [policy = '', limit = ''] = key.split('\u0000');
      c.labels({ policy, limit }).inc(now - (seen.get(key) ?? 0));
      seen.set(key, now);
    }
  });
  let redisSeen = 0;
  registry.counter(
    'weft_proxy_rate_limit_redis_errors_total',
    'Redis calls of GLOBAL RateLimitPolicies that failed or timed out; the policy failureMode (OPEN admits, CLOSED refuses) decided those requests.',
    [],
    (c) => {
      c.labels().inc(rateLimitCounts.redisErrors - redisSeen);
      redisSeen = rateLimitCounts.redisErrors;
    },
  );
};
