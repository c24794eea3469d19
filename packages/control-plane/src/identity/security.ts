import { MeshSpecSchema, parseDuration, type AnyResource } from '@weft/api';
import type { Logger } from '@weft/core';
import { CertificateAuthority, JoinTokens } from '../ca/index.js';
import type { MeshTrust } from '../compile/index.js';
import type { Store } from '../store/index.js';
import type { StreamTlsOptions } from '../stream/index.js';

/** Lifetime of the config stream's own certificate; renewed well before it ends. */
const SERVER_CERT_LIFETIME_MS = 7 * 24 * 3600 * 1000;
/** How often the config stream's certificate is renewed. */
export const SERVER_CERT_RENEW_MS = 24 * 3600 * 1000;

/** The CA, the join tokens, and what the stream and the compiler need of them. */
export interface Security {
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  /** The bundle, the signing root and the trust domain, for the compiler. */
  trust(): MeshTrust;
  /**
   * TLS for the config stream: a certificate for the control plane's SPIFFE ID (and the
   * stream host), client certificates requested and checked against the bundle but not
   * required: a proxy without one yet may fetch the bundle or redeem a join token.
   */
  serverTls(): Promise<StreamTlsOptions>;
}

/** Opens the CA (creating its root on first start) and the join tokens. */
export const openSecurity = async (
  dataDir: string,
  store: Store,
  options: { readonly caCertFile?: string; readonly caKeyFile?: string; readonly trustDomain?: string },
  streamHost: string,
  log: Logger,
): Promise<Security> => {
  const ca = await CertificateAuthority.open({
    dataDir,
    trustDomain: options.trustDomain ?? 'cluster.local',
    ...(options.caCertFile === undefined ? {} : { caCertFile: options.caCertFile }),
    ...(options.caKeyFile === undefined ? {} : { caKeyFile: options.caKeyFile }),
  });
  const tokens = await JoinTokens.open({ dataDir, store, ca });
  log.info({ mode: ca.mode, trustDomain: ca.trustDomain, caHash: ca.caHash }, 'certificate authority ready');
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', ...(streamHost === '0.0.0.0' || streamHost === '::' ? [] : [streamHost])])];
  return {
    ca,
    tokens,
    trust: () => ({
      trustDomain: ca.trustDomain,
      trustBundle: ca.trustBundle,
      signerHash: ca.rotationState().roots.find((r) => r.signing)?.caHash ?? ca.caHash,
    }),
    serverTls: async () => {
      const cert = await ca.issueServerCertificate({ hosts, lifetimeMs: SERVER_CERT_LIFETIME_MS });
      return { key: cert.keyPem, cert: cert.chainPem, ca: ca.trustBundle, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' };
    },
  };
};

/** The Mesh's workload certificate lifetime (24 h unless it says otherwise). */
export const certificateLifetimeMs = (cache: { resources(): readonly AnyResource[] }): number => {
  const mesh = cache.resources().find((r) => r.kind === 'Mesh');
  const spec = mesh?.kind === 'Mesh' ? mesh.spec : MeshSpecSchema.parse({});
  return parseDuration(spec.mtls.certificateLifetime);
};
