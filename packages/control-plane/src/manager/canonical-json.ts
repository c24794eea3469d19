/**
 * JSON text with object keys sorted at every level, so that two values holding the same
 * data compare equal whatever the order their keys were written in (a user's YAML, a
 * schema's output, the store's copy). `undefined` properties are dropped, as JSON drops them.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value));

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v: unknown = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
};

/** True when `a` and `b` hold the same JSON data. */
export const sameJson = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
