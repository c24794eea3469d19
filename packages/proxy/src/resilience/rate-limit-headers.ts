import type { LimitReading, RateLimitDecision } from './rate-limiter.js';

/**
 * Response headers that tell a client where it stands against the rate limits:
 *
 * - `RateLimit-Policy` and `RateLimit`, as the IETF HTTPAPI draft "RateLimit header fields
 *   for HTTP" (draft-ietf-httpapi-ratelimit-headers-10) defines them: Structured Field
 *   lists with one item per limit, the item a string naming the policy, `q` (quota) and
 *   `w` (window, whole seconds) on the policy, `r` (remaining) and `t` (seconds until more
 *   quota) on the limit.
 * - `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds), the
 *   older de facto headers that most clients read, for the limit closest to refusing.
 * - `retry-after` (seconds) on a refusal; never earlier than the reset time, as the draft asks.
 */

/** A header name and value, as the proxy's header lists hold them. */
export type HeaderPair = readonly [name: string, value: string];

/** A policy name as a Structured Field string: printable ASCII, `"` and `\` escaped. */
export const sfString = (name: string): string => `"${name.replace(/[^\x20-\x7e]/g, '').replace(/["\\]/g, (c) => `\\${c}`)}"`;

/**
 * The quota and window of a limit in whole seconds, as `w` must be: the tokens gained over
 * the shortest whole number of seconds that holds at least one refill interval.
 */
export const quotaWindow = (limit: Pick<LimitReading, 'tokens' | 'intervalMs'>): { readonly q: number; readonly w: number } => {
  const w = Math.max(1, Math.ceil(limit.intervalMs / 1000));
  return { q: Math.floor((limit.tokens * w * 1000) / limit.intervalMs), w };
};

const seconds = (ms: number): number => Math.ceil(ms / 1000);

/** The `RateLimit-Policy` field value. */
export const rateLimitPolicyValue = (limits: readonly LimitReading[]): string =>
  limits
    .map((l) => {
      const { q, w } = quotaWindow(l);
      return `${sfString(l.name)};q=${q};w=${w}`;
    })
    .join(', ');

/** The `RateLimit` field value. */
export const rateLimitValue = (limits: readonly LimitReading[]): string =>
  limits.map((l) => `${sfString(l.name)};r=${l.remaining};t=${seconds(l.resetMs)}`).join(', ');

/** The limit a client is closest to running out of: fewest remaining, then the latest reset. */
export const tightestLimit = (limits: readonly LimitReading[]): LimitReading | undefined =>
  limits.reduce<LimitReading | undefined>((best, l) => {
    if (best === undefined || l.remaining < best.remaining || (l.remaining === best.remaining && l.resetMs > best.resetMs)) return l;
    return best;
  }, undefined);

/** Every rate-limit header for a decision, in the order they are written. */
export const rateLimitHeaders = (decision: RateLimitDecision): HeaderPair[] => {
  const headers: HeaderPair[] = [];
  if (decision.limits.length === 0) return headers;
  headers.push(['ratelimit-policy', rateLimitPolicyValue(decision.limits)]);
  headers.push(['ratelimit', rateLimitValue(decision.limits)]);
  const tight = tightestLimit(decision.limits);
  if (tight !== undefined) {
    headers.push(['x-ratelimit-limit', String(quotaWindow(tight).q)]);
    headers.push(['x-ratelimit-remaining', String(tight.remaining)]);
    headers.push(['x-ratelimit-reset', String(seconds(tight.resetMs))]);
  }
  if (!decision.allowed) headers.push(['retry-after', String(Math.max(1, seconds(decision.retryAfterMs)))]);
  return headers;
};
