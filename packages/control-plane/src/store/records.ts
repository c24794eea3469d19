import { z } from 'zod';
import type { Entry, Mutation } from './entry.js';
import { isEncodedKey } from './key.js';

/**
 * The JSON payloads of the file store's frames (see `framing.ts`).
 *
 * Log, one per mutation:
 *     {"rev":7,"op":"put","key":"Service/default/web","cr":3,"value":{...}}
 *     {"rev":8,"op":"del","key":"Service/default/web"}
 * Snapshot: a header, then one record per item, in key order:
 *     {"format":"weft-store-snapshot","version":1,"revision":8,"count":2}
 *     {"key":"Mesh//default","cr":1,"mr":5,"value":{...}}
 *
 * Writing splices the value's JSON text in unchanged; reading re-serializes the parsed value,
 * which yields the same JSON document.
 */

const revision = z.number().int().positive();
const key = z.string().refine(isEncodedKey, 'not a store key');
const jsonObject = z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'not an object');

const LogRecord = z.discriminatedUnion('op', [
  z.strictObject({ rev: revision, op: z.literal('put'), key, cr: revision, value: jsonObject }),
  z.strictObject({ rev: revision, op: z.literal('del'), key }),
]);

const SnapshotHeader = z.strictObject({
  format: z.literal('weft-store-snapshot'),
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
});

const SnapshotItem = z.strictObject({ key, cr: revision, mr: revision, value: jsonObject });

/** The log payload of `m`. */
export const encodeLogRecord = (m: Mutation): string =>
  m.type === 'put'
    ? `{"rev":${m.revision},"op":"put","key":${JSON.stringify(m.entry.key)},"cr":${m.entry.createRevision},"value":${m.entry.json}}`
    : `{"rev":${m.revision},"op":"del","key":${JSON.stringify(m.key)}}`;

/** A decoded log record: a put as an entry, a delete as its key (its previous entry is the caller's to find). */
export type LogRecord = { readonly type: 'put'; readonly entry: Entry } | { readonly type: 'delete'; readonly revision: number; readonly key: string };

/** Parses a log payload; `{ why }` if it is not a valid record. */
export const decodeLogRecord = (payload: string): { record: LogRecord } | { why: string } => {
  const r = LogRecord.safeParse(parseJson(payload));
  if (!r.success) return { why: z.prettifyError(r.error) };
  const d = r.data;
  if (d.op === 'del') return { record: { type: 'delete', revision: d.rev, key: d.key } };
  if (d.cr > d.rev) return { why: `createRevision ${d.cr} is after revision ${d.rev}` };
  return { record: { type: 'put', entry: { key: d.key, json: JSON.stringify(d.value), createRevision: d.cr, modRevision: d.rev } } };
};

/** The snapshot header payload. */
export const encodeSnapshotHeader = (revision: number, count: number): string =>
  JSON.stringify({ format: 'weft-store-snapshot', version: 1, revision, count });

/** Parses a snapshot header payload. */
export const decodeSnapshotHeader = (payload: string): { revision: number; count: number } | { why: string } => {
  const r = SnapshotHeader.safeParse(parseJson(payload));
  return r.success ? { revision: r.data.revision, count: r.data.count } : { why: z.prettifyError(r.error) };
};

/** The snapshot payload of one item. */
export const encodeSnapshotItem = (e: Entry): string =>
  `{"key":${JSON.stringify(e.key)},"cr":${e.createRevision},"mr":${e.modRevision},"value":${e.json}}`;

/** Parses a snapshot item payload. */
export const decodeSnapshotItem = (payload: string): { entry: Entry } | { why: string } => {
  const r = SnapshotItem.safeParse(parseJson(payload));
  if (!r.success) return { why: z.prettifyError(r.error) };
  const d = r.data;
  return { entry: { key: d.key, json: JSON.stringify(d.value), createRevision: d.cr, modRevision: d.mr } };
};

const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
};
