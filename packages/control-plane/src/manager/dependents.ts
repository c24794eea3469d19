import type { AnyResource } from '@weft/api';
import type { Store, StoreKey } from '../store/index.js';
import type { ConditionInput } from './conditions.js';
import { keyOf, keyString } from './keys.js';
import { REFERABLE_KINDS, REFERRING_KINDS, referencedKeyStrings, resolvedRefsCondition } from './references.js';
import { fromStoredItem } from './stored-form.js';

/**
 * After resources were created, changed or deleted, the `ResolvedRefs` condition of the
 * resources that refer to them is recomputed (a route applied before its Service turns
 * True when the Service arrives; a policy whose target is deleted turns False). Only the
 * keys of referable kinds (Service, HTTPRoute, GRPCRoute) matter; `skip` are resources
 * that were just admitted (their conditions are already current).
 */
export const refreshDependents = async (
  store: Store,
  changed: readonly StoreKey[],
  skip: ReadonlySet<string>,
  setConditions: (key: StoreKey, conditions: readonly ConditionInput[]) => Promise<unknown>,
): Promise<number> => {
  const changedKeys = new Set(changed.filter((k) => REFERABLE_KINDS.has(k.kind)).map(keyString));
  if (changedKeys.size === 0) return 0;
  const lists = await Promise.all(REFERRING_KINDS.map((kind) => store.list({ kind })));
  const resources: AnyResource[] = lists.flatMap((l) => l.items.map(fromStoredItem));
  const existing = new Set(resources.filter((r) => REFERABLE_KINDS.has(r.kind)).map((r) => keyString(keyOf(r))));
  let updated = 0;
  for (const r of resources) {
    const k = keyString(keyOf(r));
    if (skip.has(k)) continue;
    const refs = referencedKeyStrings(r);
    if (![...changedKeys].some((c) => refs.has(c))) continue;
    const condition = resolvedRefsCondition(r, (ref) => existing.has(keyString(ref)));
    if (condition === undefined) continue;
    await setConditions(keyOf(r), [condition]);
    updated++;
  }
  return updated;
};
