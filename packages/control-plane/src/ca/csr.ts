import { createPublicKey, type KeyObject } from 'node:crypto';
import { WeftError } from '@weft/core';
import { describeKey, isP256 } from './keys.js';
import { x509 } from './x509.js';

/** The largest CSR accepted: a P-256 CSR is under 1 KiB. */
export const MAX_CSR_LENGTH = 16 * 1024;

const SAN_OID = '2.5.29.17';
const PEM_CSR = /^\s*-----BEGIN CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE REQUEST-----\s*$/;

/** A CSR whose signature verified, with its EC P-256 public key and the names it asks for. */
export interface CheckedCsr {
  readonly publicKey: x509.PublicKey;
  /** The URI subject alternative names it requests, in order. */
  readonly uris: readonly string[];
  /** Every other requested name, described (`DNS:web`, `IP:10.0.0.1`, `a name of a type Weft does not issue`). */
  readonly otherNames: readonly string[];
}

const invalid = (why: string, cause?: unknown): WeftError =>
  new WeftError('WEFT_ERR_CA_CSR_INVALID', `the certificate signing request ${why}`, {}, cause === undefined ? undefined : { cause });

/**
 * The library drops names it cannot represent (otherName, x400Address, ediPartyName) when
 * it reads GeneralNames; this counts the names that were actually there, so that none is
 * passed over unseen.
 */
class CountedGeneralNames extends x509.GeneralNames {
  get encodedCount(): number {
    return this.asn.length;
  }
}

const NAME_PREFIX: Readonly<Record<string, string>> = { dns: 'DNS', ip: 'IP', email: 'email', dn: 'DirName', guid: 'GUID', upn: 'UPN', id: 'RID' };

/** The names a CSR's subjectAltName extension requests; throws for a malformed one. */
const requestedNames = (csr: x509.Pkcs10CertificateRequest): { uris: string[]; otherNames: string[] } => {
  let all: x509.Extension[];
  try {
    all = csr.extensions;
  } catch (err) {
    throw invalid('has an extension request that does not parse', err);
  }
  const exts = all.filter((e) => e.type === SAN_OID);
  if (exts.length === 0) return { uris: [], otherNames: [] };
  if (exts.length > 1) return { uris: [], otherNames: ['several subjectAltName extensions'] };
  let names: CountedGeneralNames;
  try {
    names = new CountedGeneralNames(exts[0]?.value ?? new ArrayBuffer(0));
  } catch (err) {
    throw invalid('has a subjectAltName extension that does not parse', err);
  }
  const uris: string[] = [];
  const otherNames: string[] = [];
  for (const n of names.items) {
    if (n.type === 'url') uris.push(n.value);
    else otherNames.push(`${NAME_PREFIX[n.type] ?? n.type}:${n.value}`);
  }
  const unreadable = names.encodedCount - names.items.length;
  if (unreadable > 0) otherNames.push(`${unreadable} name${unreadable === 1 ? '' : 's'} of a type Weft does not issue (otherName, x400Address or ediPartyName)`);
  return { uris, otherNames };
};

/**
 * Parses a PEM CSR and checks what makes it signable: one `CERTIFICATE REQUEST` block of at
 * most {@link MAX_CSR_LENGTH} characters that parses, whose self-signature verifies (proof
 * that the requester holds the key and that nobody altered the request), and whose key is
 * EC P-256. Throws `WEFT_ERR_CA_CSR_INVALID` otherwise. The subject and any extensions but
 * subjectAltName are ignored: what is issued is decided by the CA, never copied from the
 * request. Which identity the names ask for is for the caller to judge.
 */
export const checkCsr = async (csrPem: string): Promise<CheckedCsr> => {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_LENGTH) throw invalid(`must be a PEM text of at most ${MAX_CSR_LENGTH} characters`);
  const m = PEM_CSR.exec(csrPem);
  if (m?.[1] === undefined) throw invalid('must be exactly one PEM block "-----BEGIN CERTIFICATE REQUEST-----"');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw invalid(`does not parse as PKCS#10: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  let verified: boolean;
  try {
    verified = await csr.verify();
  } catch (err) {
    throw invalid(`has a signature that cannot be checked: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  if (!verified) throw invalid('has a signature that does not verify: it was altered, or not signed with its own key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (err) {
    throw invalid('has a public key that cannot be read', err);
  }
  if (!isP256(key)) throw invalid(`has a ${describeKey(key)} key; Weft issues workload certificates for EC P-256 keys only`);
  return { publicKey: csr.publicKey, ...requestedNames(csr) };
};
