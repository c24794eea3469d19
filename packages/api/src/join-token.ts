import { int, literal, maxLength, minLength, number, optional, positive, regex, strictObject, string, type Infer } from './zod-mini.js';
import { DNS_LABEL_MESSAGES, RFC1123_LABEL } from './dns-names.js';

/**
 * Join tokens: what a proxy presents once to the control plane to obtain its identity
 * (`weft token create`, `weft proxy --token-file`). The format is shared by both sides:
 *
 *     weft1.<base64url(JSON payload)>.<base64url(HMAC-SHA256 over "weft1.<payload part>")>
 *
 * The payload says which service and namespace the token admits (`svc`, `ns`), until when
 * (`exp`, unix seconds), whether it admits one join only (`once`), and the hash of the
 * control plane's CA (`ca`, `sha256:<hex>` of the DER SubjectPublicKeyInfo of its root, as
 * kubeadm's `--discovery-token-ca-cert-hash`). A proxy cannot check the HMAC (only the
 * control plane holds the secret) but it can check `ca`: on first contact it accepts the
 * control plane's TLS certificate only if it chains to a root with that hash, so there is
 * no trust-on-first-use gap. Only the control plane decides whether a token is valid.
 */

/** The version prefix of every join token. */
export const JOIN_TOKEN_PREFIX = 'weft1';

/** The longest token accepted: far above what a valid payload needs, far below a memory concern. */
export const JOIN_TOKEN_MAX_LENGTH = 1024;

/** `sha256:` and 64 lowercase hex digits: a CA hash as kubeadm spells it. */
export const CA_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** The id of a token: 16 lowercase hex digits (also its store key and what `weft token revoke` takes). */
export const JOIN_TOKEN_ID_PATTERN = /^[0-9a-f]{16}$/;

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * A namespace or service name: an RFC 1123 label, checked as the resource kinds' `dnsLabel`
 * (resources/fields.ts) checks it, which this module cannot use: it is built with classic
 * zod, and the proxy reads join tokens.
 */
const dnsLabel = string().check(
  minLength(1, DNS_LABEL_MESSAGES.empty),
  maxLength(63, DNS_LABEL_MESSAGES.tooLong),
  regex(RFC1123_LABEL, DNS_LABEL_MESSAGES.pattern),
);

/** The payload of a join token. */
export const JoinTokenPayloadSchema = strictObject({
  id: string().check(regex(JOIN_TOKEN_ID_PATTERN, 'must be 16 lowercase hex digits')),
  ns: dnsLabel,
  svc: dnsLabel,
  exp: number().check(int('must be whole seconds'), positive('must be a unix time in seconds')),
  ca: string().check(regex(CA_HASH_PATTERN, 'must be "sha256:" and 64 lowercase hex digits')),
  once: optional(literal(true)),
});
export type JoinTokenPayload = Infer<typeof JoinTokenPayloadSchema>;

/** A token split into its parts, its shape checked (not its signature). */
export interface ParsedJoinToken {
  readonly payload: JoinTokenPayload;
  /** `weft1.<payload part>`: the bytes the HMAC covers. */
  readonly signingInput: string;
  /** The HMAC, decoded from base64url. */
  readonly mac: Buffer;
}

/** What {@link readJoinToken} found: the parsed token, or why it is not one. */
export type ReadJoinTokenResult = { readonly ok: true; readonly token: ParsedJoinToken } | { readonly ok: false; readonly reason: string };

const fail = (reason: string): ReadJoinTokenResult => ({ ok: false, reason });

/**
 * Parses a join token and checks its shape only: prefix, three parts, base64url, a JSON
 * payload that matches {@link JoinTokenPayloadSchema}, a 32-byte MAC, at most
 * {@link JOIN_TOKEN_MAX_LENGTH} characters. Surrounding white space (a trailing newline in
 * a token file) is ignored. It does not check the signature or the expiry: the control
 * plane does, and a proxy uses `payload.ca` to pin the control plane's certificate.
 * Reasons never echo the token, which is a secret.
 */
export const readJoinToken = (token: string): ReadJoinTokenResult => {
  const text = token.trim();
  if (text.length === 0) return fail('the join token is empty');
  if (text.length > JOIN_TOKEN_MAX_LENGTH) return fail(`the join token is longer than ${JOIN_TOKEN_MAX_LENGTH} characters`);
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== JOIN_TOKEN_PREFIX) return fail(`a join token has the form ${JOIN_TOKEN_PREFIX}.<payload>.<signature>`);
  const [, payloadPart = '', macPart = ''] = parts;
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(macPart)) return fail('the parts of a join token are base64url');
  const mac = Buffer.from(macPart, 'base64url');
  if (mac.length !== 32 || mac.toString('base64url') !== macPart) return fail('the signature of a join token is 32 bytes, base64url without padding');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    return fail('the payload of the join token is not JSON');
  }
  const r = JoinTokenPayloadSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.length === 0 ? 'payload' : i.path.join('.')}: ${i.message}`);
    return fail(`the payload of the join token is not valid: ${issues.join('; ')}`);
  }
  return { ok: true, token: { payload: r.data, signingInput: `${JOIN_TOKEN_PREFIX}.${payloadPart}`, mac } };
};

/** `weft1.<base64url(JSON payload)>`: the part of a new token that its HMAC covers. */
export const joinTokenSigningInput = (payload: JoinTokenPayload): string => {
  const checked = JoinTokenPayloadSchema.parse(payload);
  // Fixed key order, so that one payload always encodes the same way.
  const ordered = { id: checked.id, ns: checked.ns, svc: checked.svc, exp: checked.exp, ca: checked.ca, ...(checked.once === true ? { once: true } : {}) };
  return `${JOIN_TOKEN_PREFIX}.${Buffer.from(JSON.stringify(ordered), 'utf8').toString('base64url')}`;
};

/** The whole token from its signing input and HMAC. */
export const assembleJoinToken = (signingInput: string, mac: Buffer): string => `${signingInput}.${mac.toString('base64url')}`;
