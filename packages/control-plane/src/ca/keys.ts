import { createPrivateKey, createPublicKey, KeyObject, webcrypto, type X509Certificate } from 'node:crypto';
import { EC_P256, type CryptoKey, type CryptoKeyPair } from './x509.js';

/** A private key the CA signs with, and the algorithm to sign with it. */
export interface SigningKey {
  readonly key: CryptoKey;
  /** What `X509CertificateGenerator` takes as `signingAlgorithm`. */
  readonly algorithm: { readonly name: string; readonly hash: string };
  /** `EC P-256`, `RSA 3072`: for messages. */
  readonly description: string;
}

/** A new extractable ECDSA P-256 key pair. */
export const generateP256 = async (): Promise<CryptoKeyPair> => (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;

/** A WebCrypto private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export const privateKeyPem = (key: CryptoKey): string => KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();

/** `EC P-256`, `RSA 2048`, `ed25519`: a key's type for messages. */
export const describeKey = (key: KeyObject): string => {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${curveName(d?.namedCurve)}`;
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return `${key.asymmetricKeyType.toUpperCase()} ${d?.modulusLength ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
};

const curveName = (c: string | undefined): string => (c === 'prime256v1' ? 'P-256' : c === 'secp384r1' ? 'P-384' : c === 'secp521r1' ? 'P-521' : (c ?? '?'));

/** Whether a public key (SubjectPublicKeyInfo DER) is EC P-256: the one key type workload certificates are issued for. */
export const isP256 = (key: KeyObject): boolean => key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';

/**
 * Imports a private key PEM (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, as
 * openssl writes them) for signing certificates: EC P-256 (ECDSA with SHA-256), EC P-384
 * (with SHA-384) or RSA of at least 2048 bits (PKCS#1 v1.5 with SHA-256). Throws an Error
 * saying why otherwise (an encrypted key, another type); callers name the file.
 */
export const importSigningKey = async (pem: string): Promise<{ signing: SigningKey; keyObject: KeyObject }> => {
  let keyObject: KeyObject;
  try {
    keyObject = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(/passphrase/i.test(why) ? 'the key is encrypted; give the control plane an unencrypted key (file mode 0600)' : `not a PEM private key (${why})`, { cause: err });
  }
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const type = keyObject.asymmetricKeyType;
  const curve = keyObject.asymmetricKeyDetails?.namedCurve;
  const description = describeKey(keyObject);
  if (type === 'ec' && (curve === 'prime256v1' || curve === 'secp384r1')) {
    const namedCurve = curve === 'prime256v1' ? 'P-256' : 'P-384';
    const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { signing: { key, algorithm: { name: 'ECDSA', hash }, description }, keyObject };
  }
  if (type === 'rsa' && (keyObject.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) {
    const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { signing: { key, algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, description }, keyObject };
  }
  throw new Error(`the key is ${description}; a CA key must be EC P-256, EC P-384 or RSA of at least 2048 bits`);
};

/** Whether a private key belongs to a certificate: their public keys are the same. */
export const keyMatchesCertificate = (key: KeyObject, cert: X509Certificate): boolean =>
  createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(cert.publicKey.export({ type: 'spki', format: 'der' }));
