import { ConfigValidationError, WeftError } from '@weft/core';
import type { ApiError } from './api-error.js';
import type { ResourceFile } from './resource-files.js';

/**
 * How `weft apply` and `weft validate` report a file's problems on stderr: local
 * validation errors as `file:line:col: field: rule` (one per line), server answers with
 * the file name and, where the answer names a document, the line it starts at.
 */

/** The lines for an error reading or validating `name` locally, or undefined for an error that is not about the file. */
export const localFileError = (name: string, err: unknown): string | undefined => {
  if (err instanceof ConfigValidationError) return `${err.message}\n${name}: invalid, nothing applied\n`;
  if (err instanceof WeftError && err.code === 'WEFT_ERR_CONFIG_READ') return `error ${err.code}: ${err.message}\n`;
  return undefined;
};

const where = (file: ResourceFile, document: unknown): string =>
  typeof document === 'number' ? `${file.name}:${file.lines[document] ?? 1}` : file.name;

/** The lines for an error answer of the API to `file`'s batch. */
export const serverFileError = (file: ResourceFile, err: ApiError): string => {
  const issues = err.issues;
  if (issues.length > 0) {
    const lines = issues.map((i) => `${where(file, i.document)}: ${i.subject === undefined ? '' : `${i.subject}: `}${i.field === undefined || i.field === '' ? '' : `${i.field}: `}${i.message}`);
    return `${lines.join('\n')}\n${file.name}: refused by the control plane (${err.code}), nothing applied\n`;
  }
  return `${where(file, err.details?.['document'])}: error ${err.code}: ${err.message}\n`;
};
