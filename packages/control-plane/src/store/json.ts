import { StoreError } from './errors.js';

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null;
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
/** A JSON object: what the store holds under each key. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The largest value the store accepts by default, in bytes of its JSON text (etcd's own limit is 1.5 MiB a request). */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

const isPlainObject = (v: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Throws `WEFT_ERR_STORE_INVALID_VALUE` unless `v` is JSON that survives `JSON.stringify` and
 * `JSON.parse` unchanged: plain objects and arrays, finite numbers, strings, booleans, null,
 * no cycles. Object properties whose value is `undefined` are allowed and dropped, as JSON
 * drops them (so `{ port: opts.port }` works); `undefined` inside an array is rejected,
 * because JSON would silently turn it into `null`.
 */
const assertJson = (v: unknown, path: string, ancestors: Set<object>): void => {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(v)) return;
      throw invalid(path, `${String(v)} is not a JSON number`);
    case 'object': {
      if (v === null) return;
      if (ancestors.has(v)) throw invalid(path, 'cycle');
      ancestors.add(v);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (item === undefined) throw invalid(`${path}[${i}]`, 'undefined (or a hole) in an array');
          assertJson(item, `${path}[${i}]`, ancestors);
        }
      } else {
        if (!isPlainObject(v)) throw invalid(path, `a ${v.constructor?.name ?? 'non-plain'} object is not JSON`);
        for (const [k, item] of Object.entries(v)) {
          if (item !== undefined) assertJson(item, `${path}.${k}`, ancestors);
        }
      }
      ancestors.delete(v);
      return;
    }
    default:
      throw invalid(path, `a ${typeof v} is not JSON`);
  }
};

const invalid = (path: string, why: string): StoreError =>
  new StoreError('WEFT_ERR_STORE_INVALID_VALUE', `value${path}: ${why}`, { field: `value${path}` });

/**
 * Checks that `value` is a JSON object no larger than `maxBytes` and returns its JSON text,
 * the form in which the store keeps and persists it (so every read hands out a fresh copy).
 */
export const encodeValue = (value: unknown, maxBytes: number): string => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('', 'must be a JSON object');
  }
  assertJson(value, '', new Set());
  const json = JSON.stringify(value);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) {
    throw new StoreError('WEFT_ERR_STORE_TOO_LARGE', `value is ${bytes} bytes of JSON; the limit is ${maxBytes}`, {
      bytes,
      limit: maxBytes,
    });
  }
  return json;
};

/** Parses JSON text the store itself produced with `encodeValue` (so it is known to be an object). */
export const decodeValue = (json: string): JsonObject => JSON.parse(json) as JsonObject;
