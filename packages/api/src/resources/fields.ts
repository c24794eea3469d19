import { z } from 'zod';
import { DNS_LABEL_MESSAGES, RFC1123_LABEL, RFC1123_SUBDOMAIN } from '../dns-names.js';

/**
 * Scalar field schemas shared by the resource kinds: names, ports, labels, header names,
 * percentages. Each carries a message that says the rule in words, because the message is
 * what `weft apply` prints next to the file, line and field.
 */

/**
 * An RFC 1123 label: 1 to 63 lowercase letters, digits and `-`, starting and ending with a
 * letter or digit. Resource names, namespaces and port names are labels, so that
 * `<name>.<namespace>` is always a valid, unambiguous DNS name.
 */
export const dnsLabel = (): z.ZodString =>
  z
    .string()
    .min(1, DNS_LABEL_MESSAGES.empty)
    .max(63, DNS_LABEL_MESSAGES.tooLong)
    .regex(RFC1123_LABEL, DNS_LABEL_MESSAGES.pattern);

/** An RFC 1123 subdomain: dot-separated labels, at most 253 characters. */
export const dnsSubdomain = (): z.ZodString =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(253, 'must be at most 253 characters')
    .regex(RFC1123_SUBDOMAIN, 'must be a lowercase DNS name (RFC 1123 subdomain), e.g. "example.com"');

/** A TCP port, 1 to 65535. */
export const portNumber = (): z.ZodNumber => z.number().int('must be a whole number').min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535');

/** A share of requests in percent, 0 to 100, fractions allowed (`0.5` is one request in 200). */
export const percentage = (): z.ZodNumber => z.number().min(0, 'must be a percentage from 0 to 100').max(100, 'must be a percentage from 0 to 100');

/** A positive whole number bounded by `max` (limits, counts, thresholds). */
export const count = (min: number, max: number): z.ZodNumber =>
  z.number().int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

/**
 * An HTTP header name (an RFC 7230 token, as the Gateway API's `HTTPHeaderName`): 1 to 256
 * characters, no `:` (so no HTTP/2 pseudo-headers) and no spaces. Matched case-insensitively.
 */
export const headerName = (): z.ZodString =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(256, 'must be at most 256 characters')
    .regex(HEADER_NAME, 'must be an HTTP header name: letters, digits and !#$%&\'*+-.^_`|~ (no ":" or spaces)');

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * A Kubernetes label or annotation key: an optional DNS-subdomain prefix and `/`, then a
 * name of 1 to 63 letters, digits, `-`, `_` and `.` that starts and ends alphanumeric
 * (`version`, `topology.kubernetes.io/zone`).
 */
export const qualifiedName = (): z.ZodString =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(317, 'is too long')
    .refine((key) => {
      const slash = key.indexOf('/');
      const prefix = slash < 0 ? undefined : key.slice(0, slash);
      const name = slash < 0 ? key : key.slice(slash + 1);
      if (prefix !== undefined && (prefix.length > 253 || !RFC1123_SUBDOMAIN.test(prefix))) return false;
      return name.length <= 63 && QUALIFIED_NAME.test(name);
    }, 'must be a label key such as "version" or "example.com/tier": an optional DNS prefix and "/", then up to 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit');

/** A label value: empty, or up to 63 letters, digits, `-`, `_` and `.` starting and ending alphanumeric. */
export const labelValue = (): z.ZodString =>
  z
    .string()
    .max(63, 'must be at most 63 characters')
    .regex(LABEL_VALUE, 'must be a label value: up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit');

/** A label map (`version: v2`, `zone: eu-1`), as Kubernetes validates it. */
export const labelMap = (): z.ZodRecord<z.ZodString, z.ZodString> => z.record(qualifiedName(), labelValue());

/** A label map that must hold at least one label (a selector that selects everything is a mistake). */
export const labelSelector = (): z.ZodRecord<z.ZodString, z.ZodString> =>
  labelMap().refine((m) => Object.keys(m).length > 0, 'must hold at least one label');

/**
 * A regular expression of a route match, at most 1024 characters, checked to compile. The
 * control plane then admits the RE2 subset proxies run (see `snapshot-regex.ts`); a rule
 * with an expression outside it is left out and its route's status says why.
 */
export const regularExpression = (): z.ZodString =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(1024, 'must be at most 1024 characters')
    .refine((source) => {
      try {
        new RegExp(source);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression (ECMAScript syntax)');

/**
 * A `superRefine` check for arrays whose items must be distinct by `keyOf` (a list-map key,
 * as the Gateway API's `listMapKey`): reports each repeat at its own index and `field`.
 */
export const distinctBy =
  <T>(keyOf: (item: T) => string | undefined, what: string, field?: string) =>
  (items: readonly T[], ctx: z.RefinementCtx<T[]>): void => {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      const key = keyOf(item);
      if (key === undefined) return;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: field === undefined ? [i] : [i, field], message: `duplicate ${what} ${JSON.stringify(key)} (first at index ${first})` });
    });
  };
