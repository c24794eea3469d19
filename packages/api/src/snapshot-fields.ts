import { z } from 'zod';

/** Field schemas shared by the snapshot's parts. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label');
export const port = z.number().int().min(1).max(65535);
export const labels = z.record(z.string().min(1).max(63), z.string().max(63));

/** An HTTP header name (a token, RFC 9110), in any case. */
export const httpHeaderName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/, 'must be an HTTP header name (letters, digits and !#$%&\'*+-.^_`|~)');
