import type { FaultPolicy } from '@weft/api';
import { translateHttpMatches, type SnapshotMatch } from './route-translate.js';

/**
 * A FaultPolicy's `matches` in the snapshot's route-match form. A policy with an expression
 * proxies do not run is not compiled at all (its status says which): injecting its faults
 * into requests other than those it names would be worse than injecting none.
 */
export interface FaultMatches {
  /** Undefined when the policy has no `matches` (every request of its target). */
  readonly matches: SnapshotMatch[] | undefined;
  /** The expressions proxies refuse, by field (`spec.matches[0].path: ...`). */
  readonly refused: readonly string[];
}

export const faultMatches = (p: FaultPolicy): FaultMatches => {
  if (p.spec.matches === undefined) return { matches: undefined, refused: [] };
  const { matches, refused } = translateHttpMatches(p.spec.matches);
  return { matches, refused: refused.map((r) => `spec.${r}`) };
};
