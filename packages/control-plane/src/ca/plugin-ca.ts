import { readFile } from 'node:fs/promises';
import { WeftError } from '@weft/core';
import { errnoCode } from './ca-files.js';
import { certificateInfo, isSelfSigned, isSignedBy, splitPemCertificates, type CertificateInfo } from './certificate-info.js';
import type { Signer } from './issue.js';
import { importSigningKey, keyMatchesCertificate } from './keys.js';
import type { CaSource, RotationPhase } from './types.js';
import { x509 } from './x509.js';

/** The files of a plug-in CA. */
export interface PluginCaFiles {
  /** The intermediate certificate, then its chain up to and including the organisation's root (PEM). */
  readonly certFile: string;
  /** The intermediate's private key (PEM, unencrypted). */
  readonly keyFile: string;
}

const invalid = (file: string, why: string, cause?: unknown): WeftError =>
  new WeftError('WEFT_ERR_CA_FILES_INVALID', `plug-in CA ${file}: ${why}`, { file }, cause === undefined ? undefined : { cause });

const readText = async (file: string): Promise<string> => {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new WeftError('WEFT_ERR_CONFIG_READ', `plug-in CA ${file}: cannot read: ${errnoCode(err) ?? String(err)}`, { file }, { cause: err });
  }
};

/** Whether a CA certificate may sign certificates: keyUsage, when present, includes keyCertSign. */
const maySignCertificates = (info: CertificateInfo): boolean => {
  const ku = new x509.X509Certificate(info.pem).getExtension(x509.KeyUsagesExtension);
  return ku === null || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
};

const ordinal = (i: number): string => ['first', 'second', 'third', 'fourth', 'fifth'][i] ?? `#${i + 1}`;

/**
 * A CA whose signing certificate and key come from the organisation: the control plane
 * signs with the intermediate, sends it (and any intermediates above it) after each leaf,
 * and trusts the organisation's root. It cannot rotate itself: replace the files.
 */
export class PluginCa implements CaSource {
  readonly mode = 'plug-in' as const;
  readonly #signer: Signer;
  readonly #root: CertificateInfo;
  readonly #intermediates: readonly CertificateInfo[];

  private constructor(signer: Signer, root: CertificateInfo, intermediates: readonly CertificateInfo[]) {
    this.#signer = signer;
    this.#root = root;
    this.#intermediates = intermediates;
  }

  /**
   * Reads and checks the files: the first certificate is a CA allowed to sign
   * certificates, the key is its key, each certificate is signed by the next, the last one
   * is a self-signed root, and every one is valid at `now`. Refuses with
   * `WEFT_ERR_CA_FILES_INVALID` naming the file and the reason. A lone self-signed CA
   * certificate is accepted too: then it signs and is the trust anchor itself.
   */
  static async open(files: PluginCaFiles, now: Date): Promise<PluginCa> {
    const { certFile, keyFile } = files;
    const pems = splitPemCertificates(await readText(certFile));
    if (pems.length === 0) throw invalid(certFile, 'holds no PEM certificate');
    const chain: CertificateInfo[] = pems.map((pem, i) => {
      try {
        return certificateInfo(pem);
      } catch (err) {
        throw invalid(certFile, `the ${ordinal(i)} certificate does not parse (${err instanceof Error ? err.message : String(err)})`, err);
      }
    });
    chain.forEach((c, i) => {
      const what = `the ${ordinal(i)} certificate (${c.subject})`;
      if (!c.cert.ca) throw invalid(certFile, `${what} is not a CA certificate (basicConstraints cA is not set): the file must start with the intermediate the control plane signs with`);
      if (!maySignCertificates(c)) throw invalid(certFile, `${what} is a CA but its keyUsage does not allow keyCertSign`);
      if (now < c.notBefore) throw invalid(certFile, `${what} is not valid before ${c.notBefore.toISOString()}`);
      if (now >= c.notAfter) throw invalid(certFile, `${what} expired at ${c.notAfter.toISOString()}`);
      const next = chain[i + 1];
      if (next !== undefined && !isSignedBy(c.cert, next.cert)) throw invalid(certFile, `${what} is not signed by the next one (${next.subject}): the chain must go from the intermediate up to the root, in order`);
    });
    const signing = chain[0] as CertificateInfo;
    const root = chain[chain.length - 1] as CertificateInfo;
    if (!isSelfSigned(root.cert)) {
      throw invalid(certFile, `the chain ends with ${root.subject}, which is not a self-signed root: append the certificates up to and including your organisation's root`);
    }
    let imported;
    try {
      imported = await importSigningKey(await readText(keyFile));
    } catch (err) {
      if (err instanceof WeftError) throw err;
      throw invalid(keyFile, err instanceof Error ? err.message : String(err), err);
    }
    if (!keyMatchesCertificate(imported.keyObject, signing.cert)) throw invalid(keyFile, `is not the key of the first certificate in ${certFile} (${signing.subject})`);
    const intermediates = chain.slice(0, -1);
    const signer: Signer = {
      certificate: new x509.X509Certificate(signing.pem),
      info: signing,
      key: imported.signing,
      // A root that signs itself sends nothing after the leaf; else every intermediate.
      chain: intermediates.map((c) => c.pem),
      validFrom: new Date(Math.max(...chain.map((c) => c.notBefore.getTime()))),
      validUntil: new Date(Math.min(...chain.map((c) => c.notAfter.getTime()))),
    };
    return new PluginCa(signer, root, intermediates);
  }

  signer(): Signer {
    return this.#signer;
  }

  anchors(): readonly CertificateInfo[] {
    return [this.#root];
  }

  signingAnchor(): CertificateInfo {
    return this.#root;
  }

  intermediates(): readonly CertificateInfo[] {
    return this.#intermediates;
  }

  phase(): RotationPhase {
    return 'idle';
  }

  rotate(): Promise<boolean> {
    return Promise.reject(
      new WeftError(
        'WEFT_ERR_CA_ROTATION_UNSUPPORTED',
        'this control plane signs with a plug-in CA (its certificate and key come from your files): rotate it by issuing a new intermediate from your CA, replacing the certificate and key files, and restarting the control plane',
      ),
    );
  }
}
