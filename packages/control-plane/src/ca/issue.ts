import { randomBytes } from 'node:crypto';
import { WeftError } from '@weft/core';
import type { CertificateInfo } from './certificate-info.js';
import type { SigningKey } from './keys.js';
import { x509 } from './x509.js';

/** What signs certificates: the self-managed root, or a plug-in intermediate. */
export interface Signer {
  /** The signing certificate, as the library reads it (its name and key identifier go into what it signs). */
  readonly certificate: x509.X509Certificate;
  readonly info: CertificateInfo;
  readonly key: SigningKey;
  /** PEMs sent after a leaf: the intermediates between it and the trust anchor (none for a self-managed root). */
  readonly chain: readonly string[];
  /**
   * The window every issued certificate must fit in: the latest notBefore and the
   * earliest notAfter of the signing certificate and every certificate above it.
   */
  readonly validFrom: Date;
  readonly validUntil: Date;
}

/** A certificate just issued. */
export interface IssuedCertificate {
  /** The leaf, then the intermediates (none for a self-managed CA), PEM concatenated. */
  readonly chainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The serial number in hex, as `openssl x509 -serial` prints it. */
  readonly serialNumber: string;
}

/** How much earlier than now a certificate becomes valid, for peers whose clocks are behind. */
export const CLOCK_SKEW_MS = 60_000;
/** Bounds of a requested lifetime. */
const MIN_LIFETIME_MS = 1000;
const MAX_LIFETIME_MS = 10 * 366 * 24 * 3600 * 1000;

/**
 * A random positive serial number of 128 bits, in hex: 16 random bytes with a non-zero
 * first byte (a minimal DER encoding), prefixed with `00` when the first bit is set so that
 * the INTEGER stays positive, as RFC 5280 requires.
 */
export const randomSerial = (): string => {
  let bytes = randomBytes(16);
  while (bytes[0] === 0) bytes = randomBytes(16);
  const hex = bytes.toString('hex');
  return ((bytes[0] ?? 0) & 0x80) === 0 ? hex : `00${hex}`;
};

/** The validity window of a new certificate, or an error when the signer cannot sign now. */
export const validityFor = (signer: Signer, now: Date, lifetimeMs: number): { notBefore: Date; notAfter: Date } => {
  if (!Number.isSafeInteger(lifetimeMs) || lifetimeMs < MIN_LIFETIME_MS || lifetimeMs > MAX_LIFETIME_MS) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `a certificate lifetime must be a whole number of milliseconds from ${MIN_LIFETIME_MS} to ${MAX_LIFETIME_MS}, not ${lifetimeMs}`, { field: 'lifetimeMs' });
  }
  const t = now.getTime();
  if (t < signer.validFrom.getTime() || t >= signer.validUntil.getTime()) {
    throw new WeftError(
      'WEFT_ERR_CA_EXPIRED',
      `the CA cannot sign now (${now.toISOString()}): its chain is valid from ${signer.validFrom.toISOString()} to ${signer.validUntil.toISOString()} (signing certificate ${signer.info.subject})`,
      { subject: signer.info.subject },
    );
  }
  return {
    notBefore: new Date(Math.max(t - CLOCK_SKEW_MS, signer.validFrom.getTime())),
    notAfter: new Date(Math.min(t + lifetimeMs, signer.validUntil.getTime())),
  };
};

/** What a leaf holds besides what every leaf holds. */
export interface LeafRequest {
  readonly publicKey: x509.PublicKeyType;
  /** Subject alternative names; exactly one of them a URI (the SPIFFE ID). */
  readonly sans: x509.JsonGeneralNames;
  /** The subject, e.g. `[{ O: ['example.org'] }]`. */
  readonly subject: x509.JsonName;
  readonly now: Date;
  readonly lifetimeMs: number;
}

/** The authority key identifier of what `signer` signs: its own subject key identifier when it has one. */
const authorityKeyId = async (signer: Signer): Promise<x509.AuthorityKeyIdentifierExtension> => {
  const ski = signer.certificate.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski === null ? x509.AuthorityKeyIdentifierExtension.create(signer.certificate.publicKey) : new x509.AuthorityKeyIdentifierExtension(ski.keyId);
};

/**
 * Signs a leaf: basicConstraints cA=false (critical), keyUsage digitalSignature (critical),
 * extKeyUsage serverAuth and clientAuth, the given subject alternative names, subject and
 * authority key identifiers, a random 128-bit serial, valid from a minute before `now`
 * (clock skew) for `lifetimeMs` but never beyond the signer's chain.
 */
export const issueLeaf = async (signer: Signer, req: LeafRequest): Promise<IssuedCertificate> => {
  const { notBefore, notAfter } = validityFor(signer, req.now, req.lifetimeMs);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: req.subject,
    issuer: signer.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: req.publicKey,
    signingKey: signer.key.key,
    signingAlgorithm: signer.key.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension(req.sans, false),
      await x509.SubjectKeyIdentifierExtension.create(req.publicKey),
      await authorityKeyId(signer),
    ],
  });
  const leafPem = `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`;
  return {
    chainPem: [leafPem, ...signer.chain].join(''),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serialNumber: cert.serialNumber.toUpperCase().replace(/^(00)+(?=.)/, ''),
  };
};
