import { createHash } from 'node:crypto';

/**
 * Content hashes for the compiler: a canonical JSON form (object keys sorted, so that two
 * values equal in content hash alike whatever order their keys were written in) and a short
 * SHA-256 digest of it. Deterministic and free of I/O.
 */

/** Canonical JSON of `value`: object keys sorted, `undefined` members left out, as JSON.stringify. */
export const canonicalJson = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (isPlainObject(v) ? sortKeys(v) : v));

/** Hex characters kept from the SHA-256 digest: 64 bits, ample to tell configs apart. */
const HASH_LENGTH = 16;

/** A short hex digest of `value`'s canonical JSON; equal content, equal hash. */
export const contentHash = (value: unknown): string => hashText(canonicalJson(value));

/** A short hex digest of `text`. */
export const hashText = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH);

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const sortKeys = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
};
