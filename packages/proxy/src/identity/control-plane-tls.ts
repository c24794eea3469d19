import { createHash, X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { spiffeIdOf } from '@weft/core';

/** The service account the control plane's own certificate names, in namespace `weft-system`. */
export const CONTROL_PLANE_SPIFFE_PATH = '/ns/weft-system/sa/weft-control-plane';

/** `sha256:<hex>` of a certificate's DER SubjectPublicKeyInfo: what a join token pins. */
export const publicKeyHash = (pem: string): string =>
  `sha256:${createHash('sha256').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

/**
 * TLS options for talking to the control plane once its trust bundle is known: the chain
 * must lead to a root of the bundle, and the certificate must name the control plane's
 * SPIFFE ID in `trustDomain` (not a host name: it is reached by whatever address works).
 * With `client`, the proxy authenticates with its workload certificate.
 */
export const controlPlaneTls = (
  trustBundle: readonly string[],
  trustDomain: string,
  client?: { readonly keyPem: string; readonly chainPem: string },
): ConnectionOptions => {
  const expected = `spiffe://${trustDomain}${CONTROL_PLANE_SPIFFE_PATH}`;
  return {
    ca: [...trustBundle],
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['h2'],
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined => {
      const presented = spiffeIdOf(new X509Certificate(cert.raw));
      return presented === expected ? undefined : new Error(`the control plane's certificate names ${presented ?? 'no SPIFFE ID'}, not ${expected}`);
    },
    ...(client === undefined ? {} : { key: client.keyPem, cert: client.chainPem }),
  };
};
