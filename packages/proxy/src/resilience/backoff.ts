import type { Random } from './clock.js';

/** The bounds of retry backoff, in ms. */
export interface BackoffSpec {
  /** Cap of the first retry's delay (HTTPRoute `retry.backoff`). */
  readonly baseMs: number;
  /** Largest cap, however many retries. */
  readonly maxMs: number;
}

/** Envoy's defaults: 25 ms base, and a cap of ten times the base. */
export const DEFAULT_BACKOFF_BASE_MS = 25;
export const maxBackoffFor = (baseMs: number): number => baseMs * 10;

/**
 * The delay before retry number `retry` (1 for the first retry): exponential backoff with
 * full jitter, uniform in `[0, min(maxMs, baseMs × 2^(retry - 1)))`, in whole ms. Full
 * jitter spreads the retries of many callers over the window instead of sending them in
 * synchronized waves ("Exponential Backoff And Jitter", AWS Architecture Blog), as Envoy's
 * retry back-off does.
 */
export const backoffDelayMs = (retry: number, spec: BackoffSpec, random: Random): number => {
  if (!Number.isSafeInteger(retry) || retry < 1) throw new RangeError(`backoff: retry must be a whole number >= 1 (got ${retry})`);
  // 2^(retry-1) overflows to Infinity past ~1024 retries; past 2^52 the cap is maxMs anyway.
  const cap = Math.min(spec.maxMs, spec.baseMs * 2 ** Math.min(retry - 1, 52));
  if (!(cap > 0)) return 0;
  return Math.min(cap - 1, Math.floor(random() * cap));
};
