import { createHash, X509Certificate } from 'node:crypto';

/** What the CA needs to know of one certificate, read once with Node's own parser. */
export interface CertificateInfo {
  /** The certificate alone, as PEM ending in a newline. */
  readonly pem: string;
  readonly cert: X509Certificate;
  /** The subject on one line, e.g. `CN=Weft Root CA example.org`. */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** `sha256:<hex>` of its DER SubjectPublicKeyInfo. */
  readonly caHash: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----/g;

/** The PEM `CERTIFICATE` blocks of a text, in order, each normalised to end in one newline. */
export const splitPemCertificates = (text: string): string[] => [...text.matchAll(PEM_CERTIFICATE)].map((m) => `${m[0].replace(/\r\n/g, '\n')}\n`);

/**
 * `sha256:<hex>` of the DER SubjectPublicKeyInfo of a certificate: the hash kubeadm's
 * `--discovery-token-ca-cert-hash` uses, and what a join token pins. It names the key, not
 * the certificate, so a root re-issued with the same key keeps its hash.
 */
export const publicKeyHash = (cert: X509Certificate): string =>
  `sha256:${createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

/** Reads one PEM certificate; throws Node's error when it is not one. */
export const certificateInfo = (pem: string): CertificateInfo => {
  const cert = new X509Certificate(pem);
  return {
    pem: cert.toString().replace(/\r\n/g, '\n').trimEnd() + '\n',
    cert,
    subject: cert.subject.split('\n').join(', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    caHash: publicKeyHash(cert),
  };
};

/** Whether `child` names `issuer` as its issuer and carries a signature made with its key. */
export const isSignedBy = (child: X509Certificate, issuer: X509Certificate): boolean => child.checkIssued(issuer) && child.verify(issuer.publicKey);

/** Whether a certificate is self-issued and self-signed: a root. */
export const isSelfSigned = (cert: X509Certificate): boolean => isSignedBy(cert, cert);

const DAY_MS = 24 * 3600 * 1000;

/** Whole days from `now` to `until`, rounded down; negative once past. */
export const daysLeft = (until: Date, now: Date): number => Math.floor((until.getTime() - now.getTime()) / DAY_MS);
