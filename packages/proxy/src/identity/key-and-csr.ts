import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPrivateKey } from 'node:crypto';
import { KeyAndCsrSchema } from '@weft/api/data-plane';
import { WeftError } from '@weft/core';

/** A fresh key pair's private key and the CSR that asks for a certificate on it. */
export interface KeyAndCsr {
  readonly keyPem: string;
  readonly csrPem: string;
}

/** The child's script: compiled next to this file, or the TypeScript source when run from source. */
const childCommand = (): { readonly args: string[] } => {
  const js = fileURLToPath(new URL('./csr-child.js', import.meta.url));
  if (existsSync(js)) return { args: [js] };
  const ts = fileURLToPath(new URL('./csr-child.ts', import.meta.url));
  return { args: ['--conditions=weft-source', '--import', 'tsx', ts] };
};

/**
 * Generates a P-256 key and a CSR for `spiffeId` (or for no identity: the CA assigns it) in a child process (see csr-child.ts for
 * why), and checks what comes back: a parseable private key and a CSR.
 */
export const createKeyAndCsr = (spiffeId: string | undefined, timeoutMs = 30_000): Promise<KeyAndCsr> =>
  new Promise((resolve, reject) => {
    const { args } = childCommand();
    execFile(process.execPath, spiffeId === undefined ? args : [...args, spiffeId], { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', `generating a key and CSR failed: ${stderr.trim() || err.message}`, { spiffeId: spiffeId ?? '(assigned by the CA)' }, { cause: err }));
        return;
      }
      try {
        const out = KeyAndCsrSchema.parse(JSON.parse(stdout));
        createPrivateKey(out.keyPem);
        resolve(out);
      } catch (cause) {
        reject(new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', 'the CSR generator printed something that is not a key and a CSR', { spiffeId: spiffeId ?? '(assigned by the CA)' }, { cause }));
      }
    });
  });
