import { randomBytes } from 'node:crypto';
import { requestHash } from '../balancing/hash-key.js';
import type { Backend } from '../routing/backend.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import type { RouteRequest } from '../routing/route-request.js';

/** The endpoint picked for an attempt, and the sticky cookie to set when one was made up. */
export interface Picked {
  readonly endpoint: EndpointRef | undefined;
  /** The request's hash, for a hashing balancer: retries pick with the same one. */
  readonly hash?: number | undefined;
  readonly setCookie?: string | undefined;
}

const newCookieValue = (): string => randomBytes(12).toString('base64url');

/**
 * Picks an endpoint of `backend` for a request. Only a consistent-hash balancer reads the
 * request (its header, cookie or source address); every other one picks from its own state.
 */
export const pickEndpoint = (backend: Backend, req: RouteRequest | undefined, sourceAddress: string): Picked => {
  const spec = backend.hashKey;
  if (spec === undefined || req === undefined) return { endpoint: backend.balancer.pick() };
  const h = requestHash(spec, { header: (name) => req.header(name), sourceAddress }, newCookieValue);
  return { endpoint: backend.balancer.pick({ hash: h.hash }), hash: h.hash, setCookie: h.setCookie };
};
