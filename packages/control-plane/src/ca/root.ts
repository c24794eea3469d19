import { WeftError } from '@weft/core';
import { certificateInfo, isSelfSigned, type CertificateInfo } from './certificate-info.js';
import { CLOCK_SKEW_MS, randomSerial, type Signer } from './issue.js';
import { generateP256, importSigningKey, keyMatchesCertificate, privateKeyPem, type SigningKey } from './keys.js';
import { EC_P256, x509 } from './x509.js';

/** How long a self-managed root is valid. */
export const ROOT_VALIDITY_YEARS = 10;

/** A root certificate, its key, and the id its files are named by. */
export interface Root {
  /** The first 16 hex digits of its public-key hash. */
  readonly id: string;
  readonly info: CertificateInfo;
  readonly certificate: x509.X509Certificate;
  readonly key: SigningKey;
}

/** The file id of a root: the first 16 hex digits of its public-key hash. */
export const rootIdOf = (info: CertificateInfo): string => info.caHash.slice('sha256:'.length, 'sha256:'.length + 16);

/** A new root as PEM texts: the certificate and its PKCS#8 key. */
export interface NewRoot {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Makes a self-managed root: ECDSA P-256, valid for ten years from a minute before `now`,
 * subject `CN=Weft Root CA <trust domain>`, basicConstraints cA (critical), keyUsage
 * keyCertSign and cRLSign (critical), a subject key identifier.
 */
export const createRoot = async (trustDomain: string, now: Date): Promise<NewRoot> => {
  const keys = await generateP256();
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + ROOT_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Weft Root CA ${trustDomain}`] }],
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`, keyPem: privateKeyPem(keys.privateKey) };
};

/**
 * Reads a root from its PEM texts and checks it is one: a self-signed CA certificate and
 * the key that belongs to it. Throws `WEFT_ERR_CA_FILES_INVALID` naming `certFile` or
 * `keyFile` otherwise.
 */
export const loadRoot = async (certPem: string, keyPem: string, files: { readonly cert: string; readonly key: string }): Promise<Root> => {
  const bad = (file: string, why: string, cause?: unknown): WeftError =>
    new WeftError('WEFT_ERR_CA_FILES_INVALID', `${file}: ${why}`, { file }, cause === undefined ? undefined : { cause });
  let info: CertificateInfo;
  try {
    info = certificateInfo(certPem);
  } catch (err) {
    throw bad(files.cert, `not a PEM certificate (${err instanceof Error ? err.message : String(err)})`, err);
  }
  if (!info.cert.ca) throw bad(files.cert, 'is not a CA certificate (basicConstraints cA is not set)');
  if (!isSelfSigned(info.cert)) throw bad(files.cert, 'is not a self-signed root');
  let imported;
  try {
    imported = await importSigningKey(keyPem);
  } catch (err) {
    throw bad(files.key, err instanceof Error ? err.message : String(err), err);
  }
  if (!keyMatchesCertificate(imported.keyObject, info.cert)) throw bad(files.key, `is not the key of ${files.cert}`);
  return { id: rootIdOf(info), info, certificate: new x509.X509Certificate(info.pem), key: imported.signing };
};

/** A root as the signer of leaves: nothing between them, its own validity as the window. */
export const rootSigner = (root: Root): Signer => ({
  certificate: root.certificate,
  info: root.info,
  key: root.key,
  chain: [],
  validFrom: root.info.notBefore,
  validUntil: root.info.notAfter,
});
