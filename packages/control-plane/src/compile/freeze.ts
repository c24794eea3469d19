/**
 * Deep freezing for what the compiler shares: contexts, views and snapshots are handed to
 * many proxies (and cached), so none of them may change one under the others.
 */

/**
 * Freezes `value` and everything reachable from it (the values of Maps too; a Map itself
 * stays technically writable, so the compiler only hands Maps out as `ReadonlyMap`).
 * Returns `value`, typed as it was.
 */
export const deepFreeze = <T>(value: T): T => {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
    return value;
  }
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
  return value;
};
