import type { Limits, RouteRule } from '@weft/api/data-plane';
import { attemptTimeout } from '../resilience/request-deadline.js';

/**
 * The limits a request on one route rule runs under: the snapshot's, with the rule's
 * timeouts in place of `responseTimeoutMs`. Without retries an attempt starts as the
 * request arrives, so it may wait for a response head the smaller of `backendRequestMs` and
 * `requestMs`; a rule whose timeouts are all 0 waits as long as the connection lives, and a
 * rule that sets none keeps the snapshot's `responseTimeoutMs`. Composed once per config:
 * rules without timeouts share the snapshot's object, so a request costs nothing more.
 */
export const routeLimits = (limits: Limits, timeouts: RouteRule['timeouts']): Limits => {
  if (timeouts === undefined || (timeouts.requestMs === undefined && timeouts.backendRequestMs === undefined)) return limits;
  const responseTimeoutMs = attemptTimeout(timeouts, 0)?.timeoutMs ?? 0;
  return responseTimeoutMs === limits.responseTimeoutMs ? limits : Object.freeze({ ...limits, responseTimeoutMs });
};
