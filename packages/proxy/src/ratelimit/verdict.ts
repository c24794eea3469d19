import type { RateLimitVerdict } from './inbound-rate-limits.js';

/**
 * Goes on with a request once its rate-limit verdict is known: at once for local limits
 * (no promise, no extra tick on the request path), after Redis answered for global ones,
 * unless the request ended meanwhile (the client went away).
 */
export const afterRateLimit = (verdict: RateLimitVerdict, ended: () => boolean, proceed: () => void, fail: (error: unknown) => void): void => {
  if (verdict === undefined) {
    proceed();
    return;
  }
  if (!(verdict instanceof Promise)) {
    fail(verdict);
    return;
  }
  verdict.then(
    (error) => {
      if (ended()) return;
      if (error === undefined) proceed();
      else fail(error);
    },
    (error: unknown) => {
      if (!ended()) fail(error);
    },
  );
};
