import type { BalancedEndpoint, Balancer } from './balancer.js';
import { murmur3 } from './murmur3.js';

/** The hashes of `n` distinct request keys (`user-0`, `user-1`, ...), for stickiness and disruption measurements. */
export const keyHashes = (n: number): number[] => Array.from({ length: n }, (_, i) => murmur3(`user-${i}`));

/** The endpoint each hash goes to. */
export const assignments = (balancer: Balancer, hashes: readonly number[]): string[] => hashes.map((hash) => balancer.pick({ hash })?.key ?? '-');

/** How assignments changed between two runs over the same keys. */
export const movement = (before: readonly string[], after: readonly string[], removed: BalancedEndpoint['key']) => {
  let moved = 0;
  let movedFromOthers = 0;
  let onRemoved = 0;
  before.forEach((k, i) => {
    if (k === removed) onRemoved++;
    if (k === after[i]) return;
    moved++;
    if (k !== removed) movedFromOthers++;
  });
  return { moved, movedFromOthers, onRemoved };
};

/** Keys per endpoint. */
export const spread = (assigned: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const k of assigned) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
};
