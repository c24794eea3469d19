/**
 * What a rate-limit bucket is kept per, as RateLimitPolicy's `key` says: one bucket for
 * all callers, one per caller identity, or one per value of a request header.
 */
export type RateLimitKeySpec = { readonly type: 'OVERALL' } | { readonly type: 'SOURCE_IDENTITY' } | { readonly type: 'HEADER'; readonly name: string };

/** What the key is read from. */
export interface RateLimitSubject {
  /** The first value of a request header (name in lower case), or undefined. */
  header(name: string): string | undefined;
  /** The caller's SPIFFE ID, or its address for a plaintext caller. */
  readonly sourceIdentity: string;
}

/** Longest header value used as a key as is; longer ones are cut, so one key stays small. */
export const MAX_KEY_LENGTH = 256;

/**
 * The bucket key of a request. A request without the header shares the one bucket of
 * requests without it (the empty key), as the policy documents; a key cannot be confused
 * across kinds because each limit keeps its own buckets.
 */
export const rateLimitKeyOf = (spec: RateLimitKeySpec, subject: RateLimitSubject): string => {
  switch (spec.type) {
    case 'OVERALL':
      return '';
    case 'SOURCE_IDENTITY':
      return subject.sourceIdentity;
    case 'HEADER': {
      const value = subject.header(spec.name) ?? '';
      return value.length > MAX_KEY_LENGTH ? value.slice(0, MAX_KEY_LENGTH) : value;
    }
  }
};
