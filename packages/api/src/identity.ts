import { z } from 'zod';
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

export const TrustBundleResponseSchema = z.strictObject({
  trustDomain: z.string().min(1),
  trustBundle: z.array(PemCertificateSchema).min(1).max(16),
});
export type TrustBundleResponse = z.infer<typeof TrustBundleResponseSchema>;

export const IssueRequestSchema = z.strictObject({
  service: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63),
  csrPem: z
    .string()
    .max(64 * 1024)
    .startsWith('-----BEGIN CERTIFICATE REQUEST-----', 'must be a PEM certificate signing request'),
});
export type IssueRequest = z.infer<typeof IssueRequestSchema>;

export const IssueResponseSchema = z.strictObject({
  spiffeId: z.string().startsWith('spiffe://'),
  /** The leaf, then any intermediates, as PEM. */
  chainPem: z.string().min(1).max(128 * 1024),
  trustBundle: z.array(PemCertificateSchema).min(1).max(16),
  notAfter: z.iso.datetime(),
});
export type IssueResponse = z.infer<typeof IssueResponseSchema>;

/** An issuance refused: a stable code and the reason. */
export const IdentityErrorSchema = z.strictObject({ code: z.string(), message: z.string() });

/** What the proxy's CSR generator prints (a child process of the proxy). */
export const KeyAndCsrSchema = z.strictObject({
  keyPem: z.string().startsWith('-----BEGIN PRIVATE KEY-----'),
  csrPem: z.string().startsWith('-----BEGIN CERTIFICATE REQUEST-----'),
});

/** The SPIFFE ID of a workload: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export const workloadSpiffeId = (trustDomain: string, namespace: string, serviceAccount: string): string =>
  `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/** What a proxy keeps of its workload certificate in its cache dir (mode 0600), to restart while the control plane is down. */
export const CachedIdentitySchema = z.strictObject({
  spiffeId: z.string().startsWith('spiffe://'),
  trustDomain: z.string().min(1),
  keyPem: z.string().startsWith('-----BEGIN PRIVATE KEY-----'),
  chainPem: z.string().min(1),
  trustBundle: z.array(PemCertificateSchema).min(1).max(16),
});
export type CachedIdentity = z.infer<typeof CachedIdentitySchema>;
