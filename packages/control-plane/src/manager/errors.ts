import type { ErrorCode } from '@weft/api';
import { WeftError, type ErrorContext } from '@weft/core';
import type { StoreKey } from '../store/index.js';
import { describeKey } from './keys.js';

/** One problem with one document of an apply: which document, which field, which rule. */
export interface DocumentIssue {
  /** Index of the document in the batch (0 for a single apply). */
  readonly document: number;
  /** `Kind namespace/name` when the document says that much. */
  readonly subject?: string;
  /** The dotted field, e.g. `spec.rules[0].backendRefs[1].weight`; empty at the root. */
  readonly field: string;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Structured details an error carries to the API's JSON answer (`details`). */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * An error of the resource manager (or of the API above it) with a stable code, an HTTP
 * status taken from `ERROR_CODES`, and optional structured `details` (for validation
 * errors: `issues`, every problem with its document and field).
 */
export class ManagerError extends WeftError {
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetails; context?: ErrorContext; cause?: unknown } = {}) {
    super(code, message, options.context ?? {}, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ManagerError';
    this.details = options.details;
  }
}

const formatIssue = (i: DocumentIssue): string =>
  `document ${i.document}${i.subject === undefined ? '' : ` (${i.subject})`}: ${i.field === '' ? '' : `${i.field}: `}${i.message}`;

/** `WEFT_ERR_API_INVALID_RESOURCE` listing every issue, one per line. */
export const invalidResources = (issues: readonly DocumentIssue[]): ManagerError => {
  const docs = new Set(issues.map((i) => i.document)).size;
  const head = `${issues.length} ${issues.length === 1 ? 'issue' : 'issues'} in ${docs} ${docs === 1 ? 'document' : 'documents'}; nothing was applied`;
  return new ManagerError('WEFT_ERR_API_INVALID_RESOURCE', `${head}:\n  ${issues.map(formatIssue).join('\n  ')}`, { details: { issues } });
};

/** `WEFT_ERR_API_NOT_FOUND` for a resource. */
export const resourceNotFound = (subject: string): ManagerError =>
  new ManagerError('WEFT_ERR_API_NOT_FOUND', `${subject} not found`, { context: { resource: subject } });

/** `WEFT_ERR_STORE_CONFLICT` for a stale or unmet `resourceVersion` precondition. */
export const staleResourceVersion = (subject: string, given: string, current: string | undefined, document?: number): ManagerError =>
  new ManagerError(
    'WEFT_ERR_STORE_CONFLICT',
    current === undefined
      ? `${subject}: metadata.resourceVersion ${given} was given, but the resource does not exist (any more); nothing was applied`
      : `${subject}: metadata.resourceVersion ${given} is stale, the stored one is ${current}: someone else changed it first; re-read it (weft get -o yaml) and apply again. Nothing was applied`,
    { details: { ...(document === undefined ? {} : { document }), subject, resourceVersion: given, ...(current === undefined ? {} : { currentResourceVersion: current }) } },
  );

/** `WEFT_ERR_API_NOT_FOUND` for the resource at a store key. */
export const resourceNotFoundFor = (key: StoreKey): ManagerError => resourceNotFound(describeKey(key));
