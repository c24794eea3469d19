/**
 * Process-wide counts of what destination policies did, bumped on the request path and read
 * by the metrics registry at each scrape (see destination-metrics.ts), so that acting on a
 * policy costs a map update and never a metric lookup.
 */

const bump = (map: Map<string, number>, key: string): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

/** Counts keyed by label values joined with NUL. */
export const destinationCounts = {
  /** Retries sent, by `service\0reason` of the attempt retried (a status, `reset`, ...). */
  retries: new Map<string, number>(),
  /** Retriable failures not retried, by `service\0reason` (budget-exhausted, attempts-exhausted, ...). */
  retriesRefused: new Map<string, number>(),
  /** Requests refused by a circuit breaker, by `service\0limit`. */
  overflows: new Map<string, number>(),
  /** Ejections, by `service\0reason`. */
  ejections: new Map<string, number>(),
};

export const countRetry = (service: string, reason: string): void => bump(destinationCounts.retries, `${service}\u0000${reason}`);
export const countRetryRefused = (service: string, reason: string): void => bump(destinationCounts.retriesRefused, `${service}\u0000${reason}`);
export const countOverflow = (service: string, limit: string): void => bump(destinationCounts.overflows, `${service}\u0000${limit}`);
export const countEjection = (service: string, reason: string): void => bump(destinationCounts.ejections, `${service}\u0000${reason}`);
