/** Bounds on what one apply may carry; requests beyond them are refused whole with 413. */
export interface ManagerLimits {
  /**
   * Largest document accepted, in bytes of its JSON text. Default 512 KiB: half the store's
   * 1 MiB value cap, so that defaults and a status added to the largest accepted document
   * still fit, and a write never fails for size after validation passed.
   */
  readonly maxDocumentBytes: number;
  /** Most documents in one batch (one file of `weft apply`). Default 500. */
  readonly maxDocuments: number;
}

/** The limits used when a caller sets none. */
export const DEFAULT_MANAGER_LIMITS: ManagerLimits = Object.freeze({ maxDocumentBytes: 512 * 1024, maxDocuments: 500 });
