/**
 * What rate limiting counts, as plain numbers the request path bumps and the metrics
 * registry reads at each scrape (see rate-limit-metrics.ts): refusals per policy and limit,
 * and Redis failures of GLOBAL policies.
 */

/** Most (policy, limit) pairs counted; past it refusals are counted under `other`. */
export const MAX_COUNTED_LIMITS = 1024;

export const rateLimitCounts = {
  /** Refused requests by `policy\u0000limit`. */
  refused: new Map<string, number>(),
  /** Redis calls of GLOBAL policies that failed or timed out (the failure mode then applied). */
  redisErrors: 0,
};

/** Counts one refusal by `limit` of `policy`. */
export const countRefusal = (policy: string, limit: string): void => {
  let key = `${policy}\u0000${limit}`;
  const refused = rateLimitCounts.refused;
  if (!refused.has(key) && refused.size >= MAX_COUNTED_LIMITS) key = 'other\u0000other';
  refused.set(key, (refused.get(key) ?? 0) + 1);
};
