import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AnyResourceSchema, type AnyResource } from '@weft/api';
import { ConfigValidationError, parseDocuments, readConfigText, WeftError, type ConfigIssue } from '@weft/core';
import { isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';

/**
 * The input of `weft apply -f` and `weft validate -f`: files, directories (every `*.yaml`,
 * `*.yml` and `*.json` in it, in name order, not recursive) and `-` (stdin), each file a
 * stream of YAML documents (JSON is YAML too), validated locally with file:line:field
 * messages before anything is sent.
 */

/** One file to read: its name in messages, and how to read it. */
export interface ResourceSource {
  readonly name: string;
  readonly read: () => Promise<string>;
}

/** The documents of one file, as written (sent to the API) and as validated (defaults applied). */
export interface ResourceFile {
  readonly name: string;
  /** The documents as written, in order (what `weft apply` sends: the server applies defaults itself). */
  readonly documents: unknown[];
  /** The same, validated, defaults applied. */
  readonly resources: AnyResource[];
  /** The 1-based line each document starts at, for messages about it. */
  readonly lines: number[];
}

/** The name stdin has in messages. */
export const STDIN_NAME = '<stdin>';

const RESOURCE_FILE = /\.(ya?ml|json)$/i;

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
};

/** The sources `-f` arguments name, in order; `WEFT_ERR_CONFIG_READ` for a path that does not exist or an empty directory. */
export const expandSources = async (paths: readonly string[]): Promise<ResourceSource[]> => {
  const out: ResourceSource[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ name: STDIN_NAME, read: readStdin });
      continue;
    }
    const s = await stat(p).catch((err: unknown) => {
      const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      throw new WeftError('WEFT_ERR_CONFIG_READ', `${p}: cannot read: ${code}`, { file: p }, { cause: err });
    });
    if (!s.isDirectory()) {
      out.push({ name: p, read: () => readConfigText(p) });
      continue;
    }
    const entries = (await readdir(p, { withFileTypes: true })).filter((e) => e.isFile() && RESOURCE_FILE.test(e.name)).map((e) => e.name);
    entries.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) throw new WeftError('WEFT_ERR_CONFIG_READ', `${p}: holds no *.yaml, *.yml or *.json file`, { file: p });
    for (const e of entries) {
      const file = join(p, e);
      out.push({ name: file, read: () => readConfigText(file) });
    }
  }
  return out;
};

/** Same rule as `parseDocuments`: an empty document (empty file, trailing `---`) is no document. */
const isEmptyDocument = (doc: Document): boolean => {
  const c: unknown = doc.contents;
  return c === null || (isScalar(c) && c.value === null && c.source === '');
};

/** The documents as written, and the line each starts at (the text is known to be valid YAML). */
const rawDocuments = (text: string): { documents: unknown[]; lines: number[] } => {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const list = (Array.isArray(docs) ? docs : []).filter((d) => !isEmptyDocument(d));
  return {
    documents: list.map((d) => d.toJS() as unknown),
    lines: list.map((d) => Math.max(1, lc.linePos(d.contents !== null && typeof d.contents === 'object' && 'range' in d.contents ? (d.contents.range?.[0] ?? 0) : 0).line)),
  };
};

/**
 * Parses and validates one file: every syntax error, or every schema issue of every
 * document, as `file:line:col: field: rule`, plus a resource named twice in the file (a file
 * is applied all or nothing, so each resource may appear once). Throws
 * `ConfigValidationError` (`WEFT_ERR_CONFIG_INVALID`) listing them all.
 */
export const parseResourceFile = (text: string, name: string): ResourceFile => {
  const resources = parseDocuments(AnyResourceSchema, text, name);
  const { documents, lines } = rawDocuments(text);
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  resources.forEach((r, i) => {
    const ns = 'namespace' in r.metadata ? r.metadata.namespace : '';
    const key = `${r.kind}/${ns}/${r.metadata.name}`;
    const first = seen.get(key);
    const line = lines[i] ?? 1;
    if (first !== undefined) {
      const subject = `${r.kind} ${ns === '' ? '' : `${ns}/`}${r.metadata.name}`;
      issues.push({ file: name, line, column: 1, field: 'metadata.name', path: ['metadata', 'name'], message: `${subject} is also defined at line ${lines[first] ?? 1}: a file may hold each resource once` });
    } else {
      seen.set(key, i);
    }
  });
  if (issues.length > 0) throw new ConfigValidationError(issues);
  return { name, documents, resources, lines };
};
