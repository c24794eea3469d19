import { ERROR_CODES, type ErrorCode } from '@weft/api';
import { WeftError } from '@weft/core';

/** One issue of a validation error answer, as the API sends it. */
export interface ApiIssue {
  readonly document?: number;
  readonly subject?: string;
  readonly field?: string;
  readonly message: string;
}

/**
 * An error answer of the REST API: its code (from the body, or from the HTTP status when
 * the body is not the API's), message, HTTP status and details.
 */
export class ApiError extends WeftError {
  readonly httpStatus: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, httpStatus: number, details?: Readonly<Record<string, unknown>>) {
    super(code, message, { status: httpStatus });
    this.name = 'ApiError';
    this.httpStatus = httpStatus;
    this.details = details;
  }

  /** The validation issues the answer lists (`details.issues`), if any. */
  get issues(): ApiIssue[] {
    const list = this.details?.['issues'];
    return Array.isArray(list) ? list.filter(isIssue) : [];
  }
}

const isIssue = (v: unknown): v is ApiIssue => v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string';

const isKnownCode = (c: unknown): c is ErrorCode => typeof c === 'string' && Object.hasOwn(ERROR_CODES, c);

/** The error an HTTP error answer stands for; `text` is its body. */
export const apiErrorOf = (status: number, text: string): ApiError => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (body !== null && typeof body === 'object') {
    const b = body as { code?: unknown; message?: unknown; details?: unknown };
    if (isKnownCode(b.code) && typeof b.message === 'string') {
      const details = b.details !== null && typeof b.details === 'object' ? (b.details as Record<string, unknown>) : undefined;
      return new ApiError(b.code, b.message, status, details);
    }
  }
  const code: ErrorCode = status === 401 ? 'WEFT_ERR_API_UNAUTHORIZED' : status === 404 ? 'WEFT_ERR_API_NOT_FOUND' : 'WEFT_ERR_API_INTERNAL';
  return new ApiError(code, `HTTP ${status}${text.trim() === '' ? '' : `: ${text.trim().slice(0, 300)}`}`, status);
};
