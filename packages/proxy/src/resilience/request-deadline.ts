/**
 * The timeouts of a route rule in the snapshot's units (HTTPRoute `timeouts`): `requestMs`
 * bounds the whole exchange with the caller, retries and backoff included; `backendRequestMs`
 * bounds each attempt. 0 or absent disables either.
 */
export interface RouteTimeouts {
  readonly requestMs?: number | undefined;
  readonly backendRequestMs?: number | undefined;
}

/** The timeout of one attempt, and which limit set it (for the error: both give 504 `UT`). */
export type AttemptTimeout = { readonly timeoutMs: number; readonly by: 'request' | 'backendRequest' } | undefined;

/**
 * The time an attempt starting `elapsedMs` after the request arrived may take: the
 * per-attempt limit, cut short by what is left of the request deadline. Undefined when
 * neither applies. A deadline already passed gives 0: the attempt must not start.
 */
export const attemptTimeout = (timeouts: RouteTimeouts, elapsedMs: number): AttemptTimeout => {
  const request = timeouts.requestMs !== undefined && timeouts.requestMs > 0 ? Math.max(0, timeouts.requestMs - elapsedMs) : undefined;
  const backend = timeouts.backendRequestMs !== undefined && timeouts.backendRequestMs > 0 ? timeouts.backendRequestMs : undefined;
  if (request === undefined && backend === undefined) return undefined;
  if (backend !== undefined && (request === undefined || backend < request)) return { timeoutMs: backend, by: 'backendRequest' };
  return { timeoutMs: request ?? 0, by: 'request' };
};

/** Time left before the request deadline, for the retry decision; undefined without one. */
export const remainingMs = (timeouts: RouteTimeouts, elapsedMs: number): number | undefined =>
  timeouts.requestMs !== undefined && timeouts.requestMs > 0 ? Math.max(0, timeouts.requestMs - elapsedMs) : undefined;
