import { safeParseResource, type AnyResource, type Condition } from '@weft/api';
import type { JsonObject, StoredItem, StoreKey } from '../store/index.js';
import { sameJson } from './canonical-json.js';
import { mergeConditions } from './conditions.js';
import { ManagerError } from './errors.js';
import type { ParsedDocument } from './parse-batch.js';
import { admissionConditions } from './references.js';
import { fromStoredItem, toResource, toStoredValue } from './stored-form.js';

/** What applying one document would do. */
export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** The clock, identities and lookups admission needs. */
export interface AdmissionContext {
  /** Now, RFC 3339 (second precision, as Kubernetes writes it). */
  readonly now: string;
  readonly newUid: () => string;
  /** Whether a referenced resource exists (in the store, or elsewhere in the same batch). */
  readonly exists: (key: StoreKey) => boolean;
}

/** A document admitted against the stored item it replaces: the value to write, or `unchanged`. */
export interface Admitted {
  readonly result: ApplyResult;
  /** The value to store (for `unchanged`, the stored one). */
  readonly value: JsonObject;
  /** The resource as it will read back (without `resourceVersion` unless `unchanged`). */
  readonly resource: AnyResource;
}

interface StatusLike {
  readonly conditions?: readonly Condition[];
  readonly [field: string]: unknown;
}

/**
 * Computes the stored form of `doc` over `current` (undefined: a create):
 * - `uid` and `creationTimestamp` are kept from the stored resource (new ones on create);
 *   whatever the client sent for them, and for `generation`, is ignored;
 * - `generation` is 1 on create, and incremented when `spec` changes (defaults applied, key
 *   order ignored); a change of labels or annotations alone keeps it;
 * - `status` from the client is discarded: the stored status is kept, and on create or on a
 *   new spec the manager's own conditions (`Accepted`, and `ResolvedRefs` for resources
 *   with references) replace those of the same type;
 * - when the result equals what is stored, the result is `unchanged` and nothing is written.
 */
export const admit = (doc: ParsedDocument, current: StoredItem | undefined, ctx: AdmissionContext): Admitted => {
  const prev = current === undefined ? undefined : fromStoredItem(current);
  const specChanged = prev === undefined || !sameJson(prev.spec, doc.resource.spec);
  const prevGeneration = prev?.metadata.generation ?? 0;
  const generation = specChanged ? prevGeneration + 1 : Math.max(prevGeneration, 1);
  const metadata = {
    ...doc.resource.metadata,
    resourceVersion: undefined,
    uid: prev?.metadata.uid ?? ctx.newUid(),
    generation,
    creationTimestamp: prev?.metadata.creationTimestamp ?? ctx.now,
  };
  const draft = { ...doc.resource, metadata, status: undefined } as AnyResource;
  const prevStatus = prev?.status as StatusLike | undefined;
  const status: StatusLike | undefined = specChanged
    ? { ...prevStatus, conditions: mergeConditions(prevStatus?.conditions ?? [], admissionConditions(draft, ctx.exists), ctx.now) }
    : prevStatus;
  const value = toStoredValue(validateStored({ ...draft, status }, doc.subject));
  if (current !== undefined && sameJson(value, current.value)) return { result: 'unchanged', value: current.value, resource: fromStoredItem(current) };
  return { result: current === undefined ? 'created' : 'configured', value, resource: toResource(value, undefined) };
};

/**
 * Validates what is about to be stored against the kind's schema (the status the manager
 * built, and its defaults). For a document that passed validation it cannot fail; for a
 * status writer's update it can (a bug in that writer), and then nothing is stored.
 */
export const validateStored = (candidate: object, subject: string): AnyResource => {
  const r = safeParseResource(candidate);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ document: 0, subject, field: i.field, path: i.path, message: i.message }));
  throw new ManagerError('WEFT_ERR_API_INTERNAL', `${subject}: the control plane built an invalid stored form (a bug):\n  ${issues.map((i) => `${i.field}: ${i.message}`).join('\n  ')}`, {
    details: { issues },
  });
};
