import { RFC1123_LABEL } from './dns-names.js';
import { gte, int, lte, maxLength, minLength, number, record, regex, string } from './zod-mini.js';

/** Field schemas shared by the snapshot's parts. */
export const dnsLabel = string().check(minLength(1), maxLength(63), regex(RFC1123_LABEL, 'must be a lowercase RFC 1123 label'));
export const port = number().check(int(), gte(1), lte(65535));
export const labels = record(string().check(minLength(1), maxLength(63)), string().check(maxLength(63)));

/** An HTTP header name (a token, RFC 9110), in any case. */
export const httpHeaderName = string().check(
  minLength(1),
  maxLength(256),
  regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)'),
);
