import { array, iso, maxLength, minLength, startsWith, strictObject, string, type Infer } from './zod-mini.js';
import { PemCertificateSchema } from './snapshot-transport.js';

/**
 * Workload certificate issuance, on the control plane's stream address (HTTP/2 over TLS,
 * JSON bodies):
 *
 * - `GET IDENTITY_TRUST_BUNDLE_PATH`: the trust bundle, unauthenticated. A proxy with only
 *   a join token fetches it over an unverified connection, accepts it only if a root's
 *   public key hashes to the token's `ca`, then reconnects verifying against it.
 * - `POST IDENTITY_ISSUE_PATH`: signs the proxy's CSR. The first time, authenticated by a
 *   join token (`authorization: Bearer <token>`); afterwards by the proxy's current
 *   certificate (mutual TLS). Either way the identity asked for must be the one allowed.
 */
export const IDENTITY_TRUST_BUNDLE_PATH = '/weft.v1.Identity/TrustBundle';
export const IDENTITY_ISSUE_PATH = '/weft.v1.Identity/Issue';

/** Most bytes of an issuance request or answer. */
export const MAX_IDENTITY_MESSAGE_BYTES = 256 * 1024;

export const TrustBundleResponseSchema = strictObject({
  trustDomain: string().check(minLength(1)),
  trustBundle: array(PemCertificateSchema).check(minLength(1), maxLength(16)),
});
export type TrustBundleResponse = Infer<typeof TrustBundleResponseSchema>;

export const IssueRequestSchema = strictObject({
  service: string().check(minLength(1), maxLength(63)),
  namespace: string().check(minLength(1), maxLength(63)),
  csrPem: string().check(maxLength(64 * 1024), startsWith('-----BEGIN CERTIFICATE REQUEST-----', 'must be a PEM certificate signing request')),
});
export type IssueRequest = Infer<typeof IssueRequestSchema>;

export const IssueResponseSchema = strictObject({
  spiffeId: string().check(startsWith('spiffe://')),
  /** The leaf, then any intermediates, as PEM. */
  chainPem: string().check(minLength(1), maxLength(128 * 1024)),
  trustBundle: array(PemCertificateSchema).check(minLength(1), maxLength(16)),
  notAfter: iso.datetime(),
});
export type IssueResponse = Infer<typeof IssueResponseSchema>;

/** An issuance refused: a stable code and the reason. */
export const IdentityErrorSchema = strictObject({ code: string(), message: string() });

/** What the proxy's CSR generator prints (a child process of the proxy). */
export const KeyAndCsrSchema = strictObject({
  keyPem: string().check(startsWith('-----BEGIN PRIVATE KEY-----')),
  csrPem: string().check(startsWith('-----BEGIN CERTIFICATE REQUEST-----')),
});

/** The SPIFFE ID of a workload: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export const workloadSpiffeId = (trustDomain: string, namespace: string, serviceAccount: string): string =>
  `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/** What a proxy keeps of its workload certificate in its cache dir (mode 0600), to restart while the control plane is down. */
export const CachedIdentitySchema = strictObject({
  spiffeId: string().check(startsWith('spiffe://')),
  trustDomain: string().check(minLength(1)),
  keyPem: string().check(startsWith('-----BEGIN PRIVATE KEY-----')),
  chainPem: string().check(minLength(1)),
  trustBundle: array(PemCertificateSchema).check(minLength(1), maxLength(16)),
});
export type CachedIdentity = Infer<typeof CachedIdentitySchema>;
