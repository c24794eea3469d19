import { murmur3 } from './murmur3.js';

/** What a consistent hash is computed from, as DestinationPolicy `hashKey` says (ttl in ms). */
export type HashKeySpec =
  | { readonly type: 'HEADER'; readonly name: string }
  | { readonly type: 'COOKIE'; readonly name: string; readonly ttlMs?: number | undefined; readonly path?: string | undefined }
  | { readonly type: 'SOURCE_IP' };

/** What the key is read from. */
export interface HashSubject {
  /** The first value of a request header (name in lower case), or undefined. */
  header(name: string): string | undefined;
  /** The caller's IP address. */
  readonly sourceAddress: string;
}

/** The request's hash, and a cookie to set on the response when one was generated. */
export interface RequestHash {
  /** Undefined when the request has no key: the balancer falls back (least request). */
  readonly hash: number | undefined;
  /** A `set-cookie` value, when the policy generates cookies and the request had none. */
  readonly setCookie?: string | undefined;
}

const NO_HASH: RequestHash = { hash: undefined };

/** The value of cookie `name` in a `cookie` header, or undefined. */
export const cookieValue = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
};

/**
 * The hash of a request for a hashing balancer. A cookie policy with a `ttl` makes up a
 * cookie for a request without one, hashes the new value, and asks for it to be set, so
 * that the client's next requests carry it and reach the same endpoint from the first.
 * `newCookieValue` makes the value (random in the proxy, fixed in tests).
 */
export const requestHash = (spec: HashKeySpec, subject: HashSubject, newCookieValue: () => string): RequestHash => {
  switch (spec.type) {
    case 'HEADER': {
      const value = subject.header(spec.name);
      return value === undefined ? NO_HASH : { hash: murmur3(value) };
    }
    case 'SOURCE_IP':
      return { hash: murmur3(subject.sourceAddress) };
    case 'COOKIE': {
      const value = cookieValue(subject.header('cookie'), spec.name);
      if (value !== undefined && value !== '') return { hash: murmur3(value) };
      if (spec.ttlMs === undefined) return NO_HASH;
      const made = newCookieValue();
      return { hash: murmur3(made), setCookie: setCookieValue(spec.name, made, spec.ttlMs, spec.path) };
    }
  }
};

/** A `set-cookie` value for a generated sticky cookie: HttpOnly, lifetime in whole seconds. */
export const setCookieValue = (name: string, value: string, ttlMs: number, path: string | undefined): string =>
  `${name}=${value}; Max-Age=${Math.max(1, Math.floor(ttlMs / 1000))}${path === undefined ? '' : `; Path=${path}`}; HttpOnly`;
