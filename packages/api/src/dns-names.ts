/**
 * The DNS name rules of names and namespaces, apart from any schema library: the resource
 * kinds (classic zod) and the data-plane schemas (zod/mini) check the same rules with the
 * same words.
 */

/** An RFC 1123 label: lowercase letters, digits and `-`, starting and ending with a letter or digit. */
export const RFC1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** An RFC 1123 subdomain: dot-separated labels. */
export const RFC1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** What a user reads when a name is not an RFC 1123 label, rule by rule. */
export const DNS_LABEL_MESSAGES = {
  empty: 'must not be empty',
  tooLong: 'must be at most 63 characters',
  pattern: 'must be an RFC 1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
} as const;
