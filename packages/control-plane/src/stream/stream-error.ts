import type { ErrorCode } from '@weft/api';
import { WeftError, type ErrorContext } from '@weft/core';

/** The codes of the config stream (`WEFT_ERR_STREAM_*`, documented in docs/errors.md). */
export type StreamErrorCode = Extract<ErrorCode, `WEFT_ERR_STREAM_${string}`> | 'WEFT_ERR_IDENTITY_REFUSED';

/**
 * Why the control plane closes one proxy's stream. It becomes the `error` message the proxy
 * receives (`code` and `message`) and one log line; it never affects another stream.
 */
export class StreamError extends WeftError {
  declare readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string, context: ErrorContext = {}) {
    super(code, message, context);
    this.name = 'StreamError';
  }
}
