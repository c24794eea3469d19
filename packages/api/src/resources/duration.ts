import { z } from 'zod';

/**
 * Durations in configuration resources, in the Gateway API's format (GEP-2257): one to
 * four groups of up to five digits, each followed by a unit `h`, `m`, `s` or `ms`, e.g.
 * `500ms`, `10s`, `1h30m`, `0s`. No fractions, no spaces, no negative values. Every Weft
 * kind uses the same format as HTTPRoute, so a user learns one syntax. Values stay strings
 * in parsed resources (what the user wrote round-trips through `weft get -o yaml`);
 * consumers turn them into milliseconds with {@link parseDuration}.
 */

/** The Gateway API's Duration pattern, verbatim. */
export const DURATION_PATTERN = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;

const GROUP = /([0-9]{1,5})(ms|h|m|s)/g;

/** True when `text` is a duration in the Gateway API format. */
export const isDuration = (text: string): boolean => DURATION_PATTERN.test(text);

/**
 * Milliseconds in a Gateway API duration (`"1h30m"` -> 5_400_000); repeated units add up,
 * as Go's `time.ParseDuration` does. Throws a `RangeError` naming the format for anything
 * else, so a caller never guesses what a bad value meant.
 */
export const parseDuration = (text: string): number => {
  if (!isDuration(text)) {
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: expected e.g. "500ms", "10s", "1h30m"`);
  }
  let total = 0;
  for (const m of text.matchAll(GROUP)) total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return total;
};

/**
 * The shortest Gateway API duration for `ms` milliseconds (`5_400_000` -> `"1h30m"`,
 * `0` -> `"0s"`). Throws a `RangeError` for negative, fractional or too large values
 * (each group holds at most five digits).
 */
export const formatDuration = (ms: number): string => {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`cannot format ${ms} ms as a duration`);
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n === 0) continue;
    parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  const out = parts.join('');
  if (!isDuration(out)) throw new RangeError(`cannot format ${ms} ms as a duration`);
  return out;
};

/** Bounds for {@link durationSchema}, as durations themselves (`'1m'`, `'2160h'`). */
export interface DurationBounds {
  readonly min?: string;
  readonly max?: string;
}

/**
 * A zod schema for a Gateway API duration string, optionally bounded (inclusive). The
 * messages say the format and the bound, e.g. `must be at least 1m`.
 */
export const durationSchema = (bounds: DurationBounds = {}): z.ZodString => {
  const min = bounds.min === undefined ? undefined : parseDuration(bounds.min);
  const max = bounds.max === undefined ? undefined : parseDuration(bounds.max);
  let schema = z.string().regex(DURATION_PATTERN, 'must be a duration such as "500ms", "10s" or "1h30m" (units h, m, s, ms; no fractions)');
  if (min !== undefined) {
    schema = schema.refine((s) => !isDuration(s) || parseDuration(s) >= min, `must be at least ${bounds.min}`);
  }
  if (max !== undefined) {
    schema = schema.refine((s) => !isDuration(s) || parseDuration(s) <= max, `must be at most ${bounds.max}`);
  }
  return schema;
};

/** Any Gateway API duration, unbounded (`0s` included). */
export const DurationSchema = durationSchema();
