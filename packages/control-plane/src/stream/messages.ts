import { ProxyMessageSchema, snapshotVersion, type ControlPlaneMessage, type ProxyMessage, type ProxySnapshot } from '@weft/api';
import { StreamError } from './stream-error.js';

/** Longest explanation put in an `error` message (the issues of a huge bad hello are cut). */
const MAX_ERROR_MESSAGE = 2048;

const cut = (s: string): string => (s.length <= MAX_ERROR_MESSAGE ? s : `${s.slice(0, MAX_ERROR_MESSAGE - 3)}...`);

/** `field: rule; field: rule`, from zod issues. */
export const describeIssues = (issues: readonly { path: readonly PropertyKey[]; message: string }[]): string =>
  issues.map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`).join('; ');

/**
 * One line of a proxy's stream as a message, validated with the wire schemas. Throws
 * `WEFT_ERR_STREAM_BAD_MESSAGE` for a line that is not JSON, not an object, of an unknown
 * `type`, or that fails its type's schema (naming each field and rule).
 */
export const parseProxyMessage = (line: string): ProxyMessage => {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    throw new StreamError('WEFT_ERR_STREAM_BAD_MESSAGE', `a message is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new StreamError('WEFT_ERR_STREAM_BAD_MESSAGE', 'a message must be a JSON object with a "type"');
  }
  const type: unknown = (doc as { type?: unknown }).type;
  if (type !== 'hello' && type !== 'ack' && type !== 'nack' && type !== 'certificate') {
    throw new StreamError('WEFT_ERR_STREAM_BAD_MESSAGE', cut(`unknown message type ${JSON.stringify(type) ?? 'undefined'}: a proxy sends hello, ack, nack or certificate`));
  }
  const r = ProxyMessageSchema.safeParse(doc);
  if (!r.success) throw new StreamError('WEFT_ERR_STREAM_BAD_MESSAGE', cut(`invalid ${type}: ${describeIssues(r.error.issues)}`), { type });
  return r.data;
};

/** A message as one NDJSON line. */
export const encodeLine = (message: ControlPlaneMessage): Buffer => Buffer.from(`${JSON.stringify(message)}\n`);

/**
 * Encoded snapshot lines by snapshot object. The compiler hands the same frozen object to
 * every proxy with the same inputs (replicas), so each distinct snapshot is serialized once
 * however many proxies receive it; entries go when the compiler drops the snapshot.
 */
const snapshotLines = new WeakMap<ProxySnapshot, Buffer>();

/** The `snapshot` message of `snapshot` (its version is `routesVersion/endpointsVersion`), as a line. */
export const snapshotLine = (snapshot: ProxySnapshot): Buffer => {
  let line = snapshotLines.get(snapshot);
  if (line === undefined) {
    line = encodeLine({ type: 'snapshot', version: snapshotVersion(snapshot), snapshot });
    snapshotLines.set(snapshot, line);
  }
  return line;
};
