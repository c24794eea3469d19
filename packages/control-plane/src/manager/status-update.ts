import type { AnyResource, Condition } from '@weft/api';
import { mergeConditions, replaceConditions, stampParents, type ConditionInput, type ParentStatus, type ParentStatusInput } from './conditions.js';

/**
 * What a status writer (the compiler, the registry) sets on a resource. `status` belongs to
 * the control plane: users cannot write it, and writing it never changes `generation`.
 */
export interface StatusUpdate {
  /** Conditions to set, without `lastTransitionTime` (stamped by the manager). */
  readonly conditions: readonly ConditionInput[];
  /**
   * `merge` (default): each condition replaces the stored one of its type, others stay.
   * `replace`: the stored list becomes exactly `conditions` (a writer that owns them all).
   */
  readonly mode?: 'merge' | 'replace';
  /** Routes: the per-parent statuses (Gateway API `RouteStatus.parents`); replaces the stored list. */
  readonly parents?: readonly ParentStatusInput[];
  /**
   * Other status fields of the kind, set as given (Workload: `health`, `identity`, `proxy`,
   * `config`, `certificate`). Validated with the kind's schema before anything is written.
   */
  readonly fields?: object;
}

interface StatusShape {
  readonly conditions?: readonly Condition[];
  readonly parents?: readonly ParentStatus[];
  readonly [field: string]: unknown;
}

/** `update` as a status object over the stored status of `resource`; conditions stamped at `now`. */
export const nextStatus = (resource: AnyResource, update: StatusUpdate, now: string): Record<string, unknown> => {
  const prev = (resource.status ?? {}) as StatusShape;
  const prevConditions = prev.conditions ?? [];
  const conditions = update.mode === 'replace' ? replaceConditions(prevConditions, update.conditions, now) : mergeConditions(prevConditions, update.conditions, now);
  return {
    ...prev,
    ...update.fields,
    conditions,
    ...(update.parents === undefined ? {} : { parents: stampParents(prev.parents ?? [], update.parents, now) }),
  };
};

/** A bare condition list means `{ conditions }` merged by type. */
export const asStatusUpdate = (update: StatusUpdate | readonly ConditionInput[]): StatusUpdate =>
  isConditionList(update) ? { conditions: update } : update;

const isConditionList = (u: StatusUpdate | readonly ConditionInput[]): u is readonly ConditionInput[] => Array.isArray(u);
