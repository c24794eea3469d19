import { WeftError, type ErrorContext } from '@weft/core';
import type { ErrorCode } from '@weft/api';

/** The codes a store raises (`WEFT_ERR_STORE_*`, documented in docs/errors.md). */
export type StoreErrorCode = Extract<ErrorCode, `WEFT_ERR_STORE_${string}`>;

/**
 * Every error a store raises on purpose. Callers branch on `code`: `WEFT_ERR_STORE_CONFLICT`
 * and `WEFT_ERR_STORE_ALREADY_EXISTS` (409) mean "re-read and retry or give up",
 * `WEFT_ERR_STORE_NOT_FOUND` (404) means the key is absent, `WEFT_ERR_STORE_IO` means the
 * backend failed and the store no longer accepts writes.
 */
export class StoreError extends WeftError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.name = 'StoreError';
  }
}

/** `create` of a key that exists. */
export const alreadyExists = (key: string): StoreError =>
  new StoreError('WEFT_ERR_STORE_ALREADY_EXISTS', `${key} already exists`, { key });

/** `update` or `delete` of a key that does not exist. */
export const notFound = (key: string): StoreError => new StoreError('WEFT_ERR_STORE_NOT_FOUND', `${key} not found`, { key });

/** An `expectedRevision` that is not the item's `modRevision`: someone else wrote it first. */
export const conflict = (key: string, expected: number, actual: number): StoreError =>
  new StoreError(
    'WEFT_ERR_STORE_CONFLICT',
    `${key} was modified at revision ${actual}, not ${expected} as expected; re-read it and retry`,
    { key, expectedRevision: expected, modRevision: actual },
  );

/** Any call on a store after `close()` began. */
export const closedError = (): StoreError => new StoreError('WEFT_ERR_STORE_CLOSED', 'the store is closed');

/** Throws `WEFT_ERR_STORE_INVALID_REVISION` unless `rev` is a safe integer of at least 1. */
export const assertRevision = (rev: number, what: string): void => {
  if (!Number.isSafeInteger(rev) || rev < 1) {
    throw new StoreError('WEFT_ERR_STORE_INVALID_REVISION', `${what} must be an integer >= 1, got ${String(rev)}`, {
      field: what,
    });
  }
};
