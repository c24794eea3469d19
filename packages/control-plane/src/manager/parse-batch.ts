import { safeParseResource, type AnyResource } from '@weft/api';
import type { StoreKey } from '../store/index.js';
import { invalidResources, ManagerError, type DocumentIssue } from './errors.js';
import { describeKey, keyOf, keyString } from './keys.js';
import type { ManagerLimits } from './limits.js';

/** One document of a batch that passed validation, defaults applied. */
export interface ParsedDocument {
  /** Its index in the batch. */
  readonly index: number;
  readonly resource: AnyResource;
  readonly key: StoreKey;
  /** `Kind namespace/name`, for messages. */
  readonly subject: string;
  /** The client's `metadata.resourceVersion`: a precondition when set. */
  readonly resourceVersion: string | undefined;
}

/** Bytes of `doc` as JSON text, or undefined when it is not JSON at all (a cycle, a BigInt). */
const jsonBytes = (doc: unknown): number | undefined => {
  try {
    const text = JSON.stringify(doc);
    return text === undefined ? undefined : Buffer.byteLength(text);
  } catch {
    return undefined;
  }
};

const checkSizes = (docs: readonly unknown[], limits: ManagerLimits): void => {
  const tooLarge: { document: number; bytes: number }[] = [];
  docs.forEach((doc, document) => {
    const bytes = jsonBytes(doc);
    if (bytes !== undefined && bytes > limits.maxDocumentBytes) tooLarge.push({ document, bytes });
  });
  if (tooLarge.length === 0) return;
  const list = tooLarge.map((t) => `document ${t.document} is ${t.bytes} bytes`).join(', ');
  throw new ManagerError('WEFT_ERR_API_TOO_LARGE', `${list}; the limit is ${limits.maxDocumentBytes} bytes of JSON per document. Nothing was applied`, {
    details: { documents: tooLarge, limit: limits.maxDocumentBytes },
  });
};

/** `Kind namespace/name` of a document that failed validation, as far as it says. */
const subjectOf = (doc: unknown): string | undefined => {
  if (doc === null || typeof doc !== 'object') return undefined;
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } | null };
  if (typeof d.kind !== 'string') return undefined;
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : undefined;
  const ns = typeof d.metadata?.namespace === 'string' ? `${d.metadata.namespace}/` : '';
  return name === undefined ? d.kind : `${d.kind} ${ns}${name}`;
};

/** Issues of one document, or its parsed form. */
const parseOne = (doc: unknown, index: number): { ok: ParsedDocument } | { issues: DocumentIssue[] } => {
  if (jsonBytes(doc) === undefined) return { issues: [{ document: index, field: '', path: [], message: 'is not a JSON value' }] };
  const r = safeParseResource(doc);
  if (!r.success) {
    const subject = subjectOf(doc);
    return {
      issues: r.error.issues.map((i) => ({ document: index, ...(subject === undefined ? {} : { subject }), field: i.field, path: i.path, message: i.message })),
    };
  }
  const key = keyOf(r.data);
  return { ok: { index, resource: r.data, key, subject: describeKey(key), resourceVersion: r.data.metadata.resourceVersion } };
};

/**
 * Validates every document of a batch before anything is written: the count, each one's
 * size, its schema (defaults applied), and that no two name the same resource (a file holds
 * each resource once, so that "all or nothing" has one meaning). Throws
 * `WEFT_ERR_API_TOO_MANY_DOCUMENTS` or `WEFT_ERR_API_TOO_LARGE` (413), or
 * `WEFT_ERR_API_INVALID_RESOURCE` (400) listing every issue of every document.
 */
export const parseBatch = (docs: readonly unknown[], limits: ManagerLimits): ParsedDocument[] => {
  if (docs.length > limits.maxDocuments) {
    throw new ManagerError('WEFT_ERR_API_TOO_MANY_DOCUMENTS', `${docs.length} documents in one apply; the limit is ${limits.maxDocuments}. Split the file. Nothing was applied`, {
      details: { documents: docs.length, limit: limits.maxDocuments },
    });
  }
  checkSizes(docs, limits);
  const parsed: ParsedDocument[] = [];
  const issues: DocumentIssue[] = [];
  const firstIndex = new Map<string, number>();
  docs.forEach((doc, index) => {
    const r = parseOne(doc, index);
    if ('issues' in r) {
      issues.push(...r.issues);
      return;
    }
    const k = keyString(r.ok.key);
    const first = firstIndex.get(k);
    if (first !== undefined) {
      issues.push({ document: index, subject: r.ok.subject, field: 'metadata.name', path: ['metadata', 'name'], message: `${r.ok.subject} is also document ${first}: a batch may hold each resource once` });
      return;
    }
    firstIndex.set(k, index);
    parsed.push(r.ok);
  });
  if (issues.length > 0) throw invalidResources(issues);
  return parsed;
};
