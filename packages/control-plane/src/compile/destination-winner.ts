import type { DestinationPolicy } from '@weft/api';
import { cmp } from './status.js';

/**
 * The DestinationPolicy in effect among several targeting one Service: the oldest
 * (`creationTimestamp`), then the first by name, as the resource documentation says. The
 * others are reported not Accepted (see `policy-index.ts`).
 */
export const effectiveDestinationPolicy = (policies: readonly DestinationPolicy[]): DestinationPolicy | undefined =>
  [...policies].sort((a, b) => created(a) - created(b) || cmp(a.metadata.name, b.metadata.name))[0];

const created = (p: DestinationPolicy): number => {
  const ts = p.metadata.creationTimestamp;
  return ts === undefined ? Number.POSITIVE_INFINITY : Date.parse(ts);
};
