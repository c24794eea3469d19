import { WeftError } from '@weft/core';
import { StoreError, type Store, type StoredItem, type StoreKey } from '../store/index.js';
import type { Admitted } from './admission.js';
import { ManagerError, staleResourceVersion } from './errors.js';
import type { ParsedDocument } from './parse-batch.js';

/**
 * The write phase of an apply, after every document was validated and every precondition
 * checked: documents are written in order, each conditional on the revision it was admitted
 * against; if one write fails, the writes already made are undone in reverse order.
 *
 * The guarantee, stated honestly (the store has no multi-key transaction, so that an etcd
 * backend fits the same interface):
 * - Invalid input never writes anything: validation of the whole batch comes first.
 * - A failure midway (a concurrent writer won a precondition, the store failed) is followed
 *   by compensating writes: a created resource is deleted, an updated one gets its previous
 *   value back. Each is conditional on the revision this batch wrote, so a change someone
 *   else made in between is never overwritten; such a resource is reported instead.
 * - Between the first write and the last undo, readers and watchers can see part of the
 *   batch (and then its undo): all or nothing for the final state, not an atomic switch.
 * - If an undo fails (the store stopped accepting writes, or someone changed the resource),
 *   the error is `WEFT_ERR_API_ROLLBACK_FAILED` and lists what stayed applied.
 */

/** One document to write: what it was admitted against, and what to write. */
export interface PlannedWrite {
  readonly doc: ParsedDocument;
  readonly current: StoredItem | undefined;
  readonly admitted: Admitted;
}

/** A write this batch made, and how to undo it. */
interface Step {
  readonly doc: ParsedDocument;
  readonly before: StoredItem | undefined;
  readonly after: StoredItem;
}

/** The outcome of one written document. */
export interface Written {
  readonly plan: PlannedWrite;
  /** The stored item after the write (the existing one when unchanged). */
  readonly item: StoredItem | undefined;
}

/** How often a document without a client precondition is re-admitted after losing a race. */
const MAX_ATTEMPTS = 5;

const isRace = (err: unknown): boolean =>
  err instanceof StoreError && (err.code === 'WEFT_ERR_STORE_CONFLICT' || err.code === 'WEFT_ERR_STORE_ALREADY_EXISTS' || err.code === 'WEFT_ERR_STORE_NOT_FOUND');

const writeOne = async (store: Store, key: StoreKey, p: PlannedWrite): Promise<StoredItem> =>
  p.current === undefined ? store.create(key, p.admitted.value) : store.update(key, p.admitted.value, p.current.modRevision);

/**
 * Writes `plans` in order. `readmit` re-reads a document's stored item and admits it again:
 * used when a document without a client `resourceVersion` (last writer wins) lost a race
 * between admission and write. A document with one fails with 409 instead.
 */
export const writeBatch = async (store: Store, plans: readonly PlannedWrite[], readmit: (doc: ParsedDocument) => Promise<PlannedWrite>): Promise<Written[]> => {
  const steps: Step[] = [];
  const out: Written[] = [];
  for (const first of plans) {
    let plan = first;
    for (let attempt = 1; ; attempt++) {
      if (plan.admitted.result === 'unchanged') {
        out.push({ plan, item: plan.current });
        break;
      }
      try {
        const after = await writeOne(store, plan.doc.key, plan);
        steps.push({ doc: plan.doc, before: plan.current, after });
        out.push({ plan, item: after });
        break;
      } catch (err) {
        if (isRace(err) && plan.doc.resourceVersion === undefined && attempt < MAX_ATTEMPTS) {
          plan = await readmit(plan.doc).catch((e: unknown) => rollbackAndThrow(store, steps, plan.doc, e));
          continue;
        }
        const cause = isRace(err) && plan.doc.resourceVersion !== undefined ? await staleError(store, plan.doc) : err;
        return rollbackAndThrow(store, steps, plan.doc, cause);
      }
    }
  }
  return out;
};

const staleError = async (store: Store, doc: ParsedDocument): Promise<ManagerError> => {
  const now = await store.get(doc.key).catch(() => undefined);
  return staleResourceVersion(doc.subject, doc.resourceVersion ?? '', now === undefined ? undefined : String(now.modRevision), doc.index);
};

/** Undoes `steps` in reverse order, then throws: `cause` wrapped with the batch's fate. */
const rollbackAndThrow = async (store: Store, steps: readonly Step[], failed: ParsedDocument, cause: unknown): Promise<never> => {
  const notUndone: { subject: string; reason: string }[] = [];
  for (const s of [...steps].reverse()) {
    try {
      if (s.before === undefined) await store.delete(s.doc.key, s.after.modRevision);
      else await store.update(s.doc.key, s.before.value, s.after.modRevision);
    } catch (err) {
      notUndone.push({ subject: s.doc.subject, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  const what = `document ${failed.index} (${failed.subject}): ${cause instanceof Error ? cause.message : String(cause)}`;
  if (notUndone.length > 0) {
    throw new ManagerError(
      'WEFT_ERR_API_ROLLBACK_FAILED',
      `${what}; undoing the ${steps.length} earlier writes of this batch failed for ${notUndone.map((n) => `${n.subject} (${n.reason})`).join(', ')}: those stay applied`,
      { cause, details: { document: failed.index, notUndone } },
    );
  }
  const undone = steps.length === 0 ? 'nothing was applied' : `the ${steps.length} earlier ${steps.length === 1 ? 'write' : 'writes'} of this batch ${steps.length === 1 ? 'was' : 'were'} undone, so nothing of it was applied`;
  if (cause instanceof ManagerError) throw new ManagerError(cause.code, `${cause.message}${steps.length === 0 ? '' : ` (${undone})`}`, { cause, details: cause.details ?? { document: failed.index } });
  const code = cause instanceof WeftError ? cause.code : 'WEFT_ERR_API_INTERNAL';
  throw new ManagerError(code, `${what}; ${undone}`, { cause, details: { document: failed.index } });
};
