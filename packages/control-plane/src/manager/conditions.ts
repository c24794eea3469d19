import type { Condition, ConditionStatus } from '@weft/api';
import { sameJson } from './canonical-json.js';

/**
 * Conditions as their writers compute them, and how the manager stamps them: writers (the
 * manager's own reference checks, the compiler, the registry) have no clock, so
 * `lastTransitionTime` is set here: to now when a condition's status, reason or message
 * changed, and kept from the stored condition of the same type otherwise.
 */

/** A condition without `lastTransitionTime` (the compiler's `CompiledCondition` fits). */
export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** `input` as a stored condition, its transition time kept from `previous` when nothing but the generation changed. */
export const stampCondition = (input: ConditionInput, previous: Condition | undefined, now: string): Condition => {
  const message = input.message ?? '';
  const same = previous !== undefined && previous.status === input.status && previous.reason === input.reason && previous.message === message;
  return {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message,
    lastTransitionTime: same ? previous.lastTransitionTime : now,
    ...(input.observedGeneration === undefined ? {} : { observedGeneration: input.observedGeneration }),
  };
};

/** Exactly `inputs`, stamped against `previous` by type. */
export const replaceConditions = (previous: readonly Condition[], inputs: readonly ConditionInput[], now: string): Condition[] =>
  inputs.map((c) => stampCondition(c, previous.find((p) => p.type === c.type), now));

/** `previous` with each of `inputs` replacing (or appended as) the condition of its type. */
export const mergeConditions = (previous: readonly Condition[], inputs: readonly ConditionInput[], now: string): Condition[] => {
  const out = previous.map((p) => {
    const input = inputs.find((c) => c.type === p.type);
    return input === undefined ? p : stampCondition(input, p, now);
  });
  for (const c of inputs) if (!previous.some((p) => p.type === c.type)) out.push(stampCondition(c, undefined, now));
  return out;
};

/** A route's `parentRef` as a status entry names it (the compiler's `ParentRefReport` fits). */
export interface ParentRefInput {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** One entry of a route's `status.parents` (the compiler's `RouteParentStatusReport` fits). */
export interface ParentStatusInput {
  readonly parentRef: ParentRefInput;
  readonly controllerName: string;
  readonly conditions: readonly ConditionInput[];
}

/** A stored `status.parents` entry. */
export interface ParentStatus {
  readonly parentRef: ParentRefInput;
  readonly controllerName: string;
  readonly conditions: readonly Condition[];
}

/** `inputs` as stored parent statuses, each stamped against the stored entry with the same parentRef and controller. */
export const stampParents = (previous: readonly ParentStatus[], inputs: readonly ParentStatusInput[], now: string): ParentStatus[] =>
  inputs.map((p) => {
    const old = previous.find((o) => o.controllerName === p.controllerName && sameJson(o.parentRef, p.parentRef));
    return { parentRef: { ...p.parentRef }, controllerName: p.controllerName, conditions: replaceConditions(old?.conditions ?? [], p.conditions, now) };
  });
