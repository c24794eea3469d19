import { ERROR_CODES, type ErrorCode } from '@weft/api/error-codes';

/** Context carried by an error: which hop, which rule, which target it failed in. */
export type ErrorContext = Readonly<Record<string, string | number | boolean | undefined>>;

/**
 * The one base class of every error Weft raises on purpose. `code` is stable and
 * documented in docs/errors.md; `context` names where it happened, so that the message a
 * user finally reads says which hop and why without them reading a stack trace.
 */
export class WeftError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeftError';
    this.code = code;
    this.context = context;
  }

  /** HTTP status this error becomes when answered to a client. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** Envoy-style response flag. */
  get flag(): string {
    return ERROR_CODES[this.code].flag;
  }
}
