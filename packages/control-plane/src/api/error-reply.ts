import { ERROR_CODES, type ErrorCode } from '@weft/api';
import { WeftError } from '@weft/core';
import { ManagerError } from '../manager/index.js';

/** The JSON body of every error answer of the REST API. */
export interface ErrorBody {
  /** A stable code from docs/errors.md, e.g. `WEFT_ERR_API_INVALID_RESOURCE`. */
  readonly code: ErrorCode;
  readonly message: string;
  /** Structured details: for validation errors `issues`, each with `document`, `field` and `message`. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An error answer: its HTTP status (from `ERROR_CODES`) and body. */
export interface ErrorReply {
  readonly status: number;
  readonly body: ErrorBody;
}

/** Fastify's own errors that reach the handler, by their `code`. */
const FASTIFY_CODES: Readonly<Record<string, { code: ErrorCode; message: (err: Error, bodyLimit: number) => string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'WEFT_ERR_API_TOO_LARGE', message: (_e, limit) => `the request body is larger than ${limit} bytes; nothing was applied (apply large sets of resources in several files)` },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'WEFT_ERR_API_UNSUPPORTED_MEDIA_TYPE', message: () => 'the request body must be JSON (Content-Type: application/json); the CLI converts YAML before sending' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'WEFT_ERR_API_BAD_REQUEST', message: () => 'the request body is empty; expected JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'WEFT_ERR_API_BAD_REQUEST', message: () => 'the request body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'WEFT_ERR_API_BAD_REQUEST', message: () => 'the request body does not match its Content-Length' },
};

const fastifyCode = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('FST_') ? err.code : undefined;

const clientStatus = (err: unknown): number | undefined => {
  const s = err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number' ? err.statusCode : undefined;
  return s !== undefined && s >= 400 && s < 500 ? s : undefined;
};

/**
 * The one place where errors become answers: a `WeftError` answers with its code, the
 * status `ERROR_CODES` gives it and (for the manager's errors) its details; fastify's
 * body-parsing errors get Weft codes; anything else is a 500 `WEFT_ERR_API_INTERNAL`
 * whose message names the request id to find in the log, and says nothing of internals.
 */
export const toErrorReply = (err: unknown, ctx: { readonly requestId: string; readonly bodyLimit: number }): ErrorReply => {
  if (err instanceof WeftError) {
    const details = err instanceof ManagerError ? err.details : undefined;
    return { status: ERROR_CODES[err.code].status, body: { code: err.code, message: err.message, ...(details === undefined ? {} : { details }) } };
  }
  const fst = fastifyCode(err);
  const known = fst === undefined ? undefined : FASTIFY_CODES[fst];
  if (known !== undefined && err instanceof Error) return reply(known.code, known.message(err, ctx.bodyLimit));
  const status = clientStatus(err);
  if (status !== undefined && err instanceof Error) return reply('WEFT_ERR_API_BAD_REQUEST', err.message);
  return reply('WEFT_ERR_API_INTERNAL', `internal error while answering request ${ctx.requestId}; the control plane's log has the details`);
};

const reply = (code: ErrorCode, message: string): ErrorReply => ({ status: ERROR_CODES[code].status, body: { code, message } });
