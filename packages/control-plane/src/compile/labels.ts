/**
 * Label maps as the snapshot carries them: keys of 1 to 63 characters, values of at most 63
 * (the snapshot's schema), in sorted key order so equal maps serialize alike.
 */

const fits = (k: string, v: string): boolean => k.length >= 1 && k.length <= 63 && v.length <= 63;

/** True when every label fits the snapshot's limits. */
export const fitsSnapshotLabels = (labels: Readonly<Record<string, string>>): boolean => Object.entries(labels).every(([k, v]) => fits(k, v));

/** The labels in sorted key order. */
export const sortedLabels = (labels: Readonly<Record<string, string>>): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * The labels an endpoint can carry in the snapshot, sorted; a label that does not fit
 * (e.g. a long `example.com/...` key) is left out, since no subset could select on it.
 */
export const snapshotLabels = (labels: Readonly<Record<string, string>>): Record<string, string> =>
  sortedLabels(Object.fromEntries(Object.entries(labels).filter(([k, v]) => fits(k, v))));
