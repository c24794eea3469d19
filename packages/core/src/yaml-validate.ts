import { readFile } from 'node:fs/promises';
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
} from 'yaml';
import { safeParse, type $ZodIssue, type $ZodType } from 'zod/v4/core';
import { WeftError } from './weft-error.js';

/**
 * Validated configuration documents read from YAML (or JSON, which is YAML): every problem
 * is reported at the line and column of the node it concerns, with the field path and the
 * rule, so that a user fixes a file without guessing. Generic over the schema, so that the
 * proxy's `--config` file and `weft apply` share one reader. Schemas are taken as zod's core
 * type and parsed with core's `safeParse`, so that both classic schemas (the resource kinds)
 * and zod/mini ones (the snapshot, which the proxy loads without classic zod) are accepted.
 */

/** One problem found in a configuration file, located in its source. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based line of the offending node (or of its nearest existing parent). */
  readonly line: number;
  /** 1-based column of the same node. */
  readonly column: number;
  /** The dotted field path, e.g. `endpoints["reviews.default"][0].port`; empty at the root. */
  readonly field: string;
  /** The path as keys and indexes. */
  readonly path: readonly (string | number)[];
  /** What rule failed, in the schema library's words (or the YAML parser's). */
  readonly message: string;
}

/**
 * A configuration file that is not valid YAML or fails its schema. `issues` lists every
 * problem in source order; `message` holds them one per line as `file:line:col: field: rule`.
 * `context` carries the first issue's `file`, `line`, `column` and `field`.
 */
export class ConfigValidationError extends WeftError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0];
    super('WEFT_ERR_CONFIG_INVALID', formatIssues(issues), {
      file: first?.file,
      line: first?.line,
      column: first?.column,
      field: first?.field,
      issues: issues.length,
    });
    this.name = 'ConfigValidationError';
    this.issues = issues;
  }
}

/** Most issues spelled out in a message; a file with more says how many were left out. */
const MAX_LISTED_ISSUES = 50;

const formatIssue = (i: ConfigIssue): string =>
  `${i.file}:${i.line}:${i.column}: ${i.field === '' ? '' : `${i.field}: `}${i.message}`;

const formatIssues = (issues: readonly ConfigIssue[]): string => {
  const lines = issues.slice(0, MAX_LISTED_ISSUES).map(formatIssue);
  if (issues.length > MAX_LISTED_ISSUES) lines.push(`... and ${issues.length - MAX_LISTED_ISSUES} more`);
  return lines.join('\n');
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `['endpoints', 'reviews.default', 0, 'port']` -> `endpoints["reviews.default"][0].port`. */
export const formatFieldPath = (path: readonly PropertyKey[]): string => {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = typeof seg === 'symbol' ? (seg.description ?? '') : seg;
      if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
};

type ZodIssue = $ZodIssue;

/** The source offset of a node, or undefined when it has no range (e.g. created, not parsed). */
const startOf = (node: unknown): number | undefined => {
  if (node !== null && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: readonly number[] | null }).range;
    if (range && typeof range[0] === 'number') return range[0];
  }
  return undefined;
};

/**
 * Walks `path` through the YAML document, following aliases, and returns the offset of the
 * node it names; when the path leaves the document (a missing key), the nearest existing
 * parent. With `keyOf`, the result is the key of that entry in the map the path names
 * (used for unknown keys, whose key is what the user must delete).
 */
const locate = (doc: Document, path: readonly PropertyKey[], keyOf?: string): number => {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? startOf(doc) ?? 0;
  const resolve = (n: unknown): unknown => (isAlias(n) ? n.resolve(doc) : n);
  node = resolve(node);
  const step = (seg: PropertyKey): boolean => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
        if (String(key) !== String(seg)) continue;
        const at = startOf(pair.value) ?? startOf(pair.key);
        if (at !== undefined) offset = at;
        node = resolve(pair.value);
        return true;
      }
      return false;
    }
    if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) return false;
      const at = startOf(item);
      if (at !== undefined) offset = at;
      node = resolve(item);
      return true;
    }
    return false;
  };
  for (const seg of path) if (!step(seg)) return offset;
  if (keyOf !== undefined && isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key: unknown = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(key) === keyOf) return startOf(pair.key) ?? offset;
    }
  }
  return offset;
};

/** zod's message, made specific for unions whose every branch failed for one simple reason. */
const messageOf = (issue: ZodIssue): string => {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue.message;
  const reasons: string[] = [];
  for (const branch of issue.errors) {
    const only = branch[0];
    if (branch.length !== 1 || only === undefined || only.path.length !== 0) return issue.message;
    reasons.push(only.message);
  }
  return `${issue.message}: ${reasons.join(', or ')}`;
};

const toPath = (path: readonly PropertyKey[]): (string | number)[] =>
  path.map((s) => (typeof s === 'symbol' ? (s.description ?? '') : s));

/** Source position of an offset, 1-based; a line counter that saw no newline still says line 1. */
const positionOf = (lc: LineCounter, offset: number): { line: number; column: number } => {
  const { line, col } = lc.linePos(offset);
  return { line: Math.max(1, line), column: Math.max(1, col) };
};

const issuesOf = (doc: Document, zodIssues: readonly ZodIssue[], lc: LineCounter, file: string): ConfigIssue[] => {
  const out: ConfigIssue[] = [];
  for (const issue of zodIssues) {
    if (issue.code === 'unrecognized_keys') {
      // One line per unknown key, at the key itself: that is what the user must delete or fix.
      for (const key of issue.keys) {
        const path = [...toPath(issue.path), key];
        const offset = locate(doc, issue.path, key);
        out.push({ file, ...positionOf(lc, offset), field: formatFieldPath(path), path, message: `Unrecognized key: ${JSON.stringify(key)}` });
      }
      continue;
    }
    const offset = locate(doc, issue.path);
    const path = toPath(issue.path);
    out.push({ file, ...positionOf(lc, offset), field: formatFieldPath(path), path, message: messageOf(issue) });
  }
  return out;
};

/** A document with nothing in it (an empty file, a trailing `---`) is not a document to validate. */
const isEmptyDocument = (doc: Document): boolean => {
  const c: unknown = doc.contents;
  return c === null || (isScalar(c) && c.value === null && c.source === '');
};

/** The parsed, non-empty documents of a YAML stream, or every syntax error in it. */
const parseYaml = (text: string, file: string): { docs: Document[]; lc: LineCounter } => {
  const lc = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false, keepSourceTokens: false });
  const all: Document[] = Array.isArray(parsed) ? parsed : [];
  const syntax: ConfigIssue[] = [];
  for (const doc of all) {
    for (const err of doc.errors) {
      syntax.push({ file, ...positionOf(lc, err.pos[0]), field: '', path: [], message: err.message });
    }
  }
  if (syntax.length > 0) throw new ConfigValidationError(sortIssues(syntax));
  return { docs: all.filter((d) => !isEmptyDocument(d)), lc };
};

const sortIssues = (issues: ConfigIssue[]): ConfigIssue[] =>
  issues.sort((a, b) => a.line - b.line || a.column - b.column);

/** Converts one document to plain data and validates it; throws with every issue located. */
const validateDocument = <T>(schema: $ZodType<T>, doc: Document, lc: LineCounter, file: string): T => {
  let data: unknown;
  try {
    // The default alias limit guards against "billion laughs" documents.
    data = doc.toJS();
  } catch (err) {
    const { line, column } = positionOf(lc, startOf(doc.contents) ?? 0);
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigValidationError([{ file, line, column, field: '', path: [], message }]);
  }
  const result = safeParse(schema, data);
  if (result.success) return result.data;
  throw new ConfigValidationError(sortIssues(issuesOf(doc, result.error.issues, lc, file)));
};

/**
 * Parses a YAML stream (several `---`-separated documents; JSON is YAML too) and validates
 * each non-empty document against `schema`. Throws a {@link ConfigValidationError}
 * (`WEFT_ERR_CONFIG_INVALID`) listing every syntax error, or every schema issue of every
 * document, as `fileName:line:col: field: rule`; nothing is returned unless all are valid.
 */
export const parseDocuments = <T>(schema: $ZodType<T>, text: string, fileName: string): T[] => {
  const { docs, lc } = parseYaml(text, fileName);
  const values: T[] = [];
  const issues: ConfigIssue[] = [];
  for (const doc of docs) {
    try {
      values.push(validateDocument(schema, doc, lc, fileName));
    } catch (err) {
      if (!(err instanceof ConfigValidationError)) throw err;
      issues.push(...err.issues);
    }
  }
  if (issues.length > 0) throw new ConfigValidationError(issues);
  return values;
};

/**
 * Like {@link parseDocuments} for a file that must hold exactly one document: zero or
 * several documents are a `WEFT_ERR_CONFIG_INVALID` error too.
 */
export const parseDocument = <T>(schema: $ZodType<T>, text: string, fileName: string): T => {
  const { docs, lc } = parseYaml(text, fileName);
  const [only, second] = docs;
  if (only === undefined) {
    throw new ConfigValidationError([
      { file: fileName, line: 1, column: 1, field: '', path: [], message: 'expected one document, found none' },
    ]);
  }
  if (second !== undefined) {
    const at = positionOf(lc, startOf(second) ?? startOf(second.contents) ?? 0);
    throw new ConfigValidationError([
      { file: fileName, ...at, field: '', path: [], message: `expected one document, found ${docs.length}` },
    ]);
  }
  return validateDocument(schema, only, lc, fileName);
};

/** Reads a file as UTF-8, turning any failure into `WEFT_ERR_CONFIG_READ` naming the file. */
export const readConfigText = async (path: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new WeftError('WEFT_ERR_CONFIG_READ', `${path}: cannot read: ${reason}`, { file: path }, { cause: err });
  }
};

/**
 * Reads `path` and validates every document in it, as {@link parseDocuments} does, naming
 * the file by `path` in messages. An unreadable file throws `WEFT_ERR_CONFIG_READ`.
 */
export const readDocumentsFile = async <T>(schema: $ZodType<T>, path: string): Promise<T[]> =>
  parseDocuments(schema, await readConfigText(path), path);

/** Reads `path` and validates its single document, as {@link parseDocument} does. */
export const readDocumentFile = async <T>(schema: $ZodType<T>, path: string): Promise<T> =>
  parseDocument(schema, await readConfigText(path), path);
