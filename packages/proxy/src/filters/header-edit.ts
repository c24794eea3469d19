import type { OutgoingHttpHeaders } from 'node:http2';
import type { HeaderModifier } from '@weft/api/data-plane';
import type { RawHeaders } from '../http1/llhttp.js';

/**
 * RequestHeaderModifier and ResponseHeaderModifier, compiled once per snapshot into a list
 * of operations applied in order (a rule's modifier, then its backend's): `set` replaces
 * every field of the name, `add` appends to its value (comma-joined, as the Gateway API
 * shows: `foo` plus `bar` is `foo,bar`), `remove` deletes it. Names compare without case.
 * The snapshot refuses modifiers of framing and connection headers, so an edit never
 * changes how a message is delimited.
 */
export interface HeaderEdit {
  /** An HTTP/1.1 header list (name, value, name, value...) with the edit applied; the input is not changed. */
  raw(headers: RawHeaders): RawHeaders;
  /** Applies the edit to HTTP/2 headers (lower-case names) in place. */
  object(headers: OutgoingHttpHeaders): void;
}

interface Op {
  readonly kind: 'set' | 'add' | 'remove';
  readonly name: string;
  readonly lower: string;
  readonly value: string;
}

const opsOf = (m: HeaderModifier): Op[] => [
  ...(m.set ?? []).map((h): Op => ({ kind: 'set', name: h.name, lower: h.name.toLowerCase(), value: h.value })),
  ...(m.add ?? []).map((h): Op => ({ kind: 'add', name: h.name, lower: h.name.toLowerCase(), value: h.value })),
  ...(m.remove ?? []).map((n): Op => ({ kind: 'remove', name: n, lower: n.toLowerCase(), value: '' })),
];

const applyRaw = (headers: RawHeaders, ops: readonly Op[]): RawHeaders => {
  let out = headers.slice();
  for (const op of ops) {
    const kept: RawHeaders = [];
    let existing: string | undefined;
    for (let i = 0; i < out.length; i += 2) {
      const name = out[i] as string;
      if (name.length === op.lower.length && name.toLowerCase() === op.lower) {
        const v = out[i + 1] as string;
        existing = existing === undefined ? v : `${existing},${v}`;
        continue;
      }
      kept.push(name, out[i + 1] as string);
    }
    if (op.kind === 'set') kept.push(op.name, op.value);
    else if (op.kind === 'add') kept.push(op.name, existing === undefined ? op.value : `${existing},${op.value}`);
    out = kept;
  }
  return out;
};

const applyObject = (headers: OutgoingHttpHeaders, ops: readonly Op[]): void => {
  for (const op of ops) {
    if (op.kind === 'remove') {
      delete headers[op.lower];
      continue;
    }
    if (op.kind === 'set') {
      headers[op.lower] = op.value;
      continue;
    }
    const existing = headers[op.lower];
    const joined = existing === undefined ? undefined : Array.isArray(existing) ? existing.join(',') : String(existing);
    headers[op.lower] = joined === undefined ? op.value : `${joined},${op.value}`;
  }
};

/** Compiles modifiers applied in order into one edit; undefined when they change nothing. */
export const compileHeaderEdit = (modifiers: readonly HeaderModifier[]): HeaderEdit | undefined => {
  const ops = modifiers.flatMap(opsOf);
  if (ops.length === 0) return undefined;
  return {
    raw: (headers) => applyRaw(headers, ops),
    object: (headers) => applyObject(headers, ops),
  };
};
