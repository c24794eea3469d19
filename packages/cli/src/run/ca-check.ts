import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where in the data dir a CA certificate may be. */
const CA_FILES = ['ca.crt', 'ca.pem', join('ca', 'ca.crt'), join('ca', 'ca.pem'), join('ca', 'cert.pem')];
/** A CA expiring sooner than this is reported. */
const NEAR_EXPIRY_MS = 30 * 24 * 3600 * 1000;

/** The result of the CA check: `skipped` when the data dir holds no CA yet. */
export type CaCheck = { readonly status: 'skipped'; readonly note: string } | { readonly status: 'ok' | 'bad'; readonly note: string };

/** Checks the data dir's CA certificate, if any: parseable, valid now, and not within 30 days of expiry. */
export const checkCa = async (dataDir: string, now = Date.now()): Promise<CaCheck> => {
  for (const rel of CA_FILES) {
    const file = join(dataDir, rel);
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    try {
      const cert = new X509Certificate(pem);
      const from = Date.parse(cert.validFrom);
      const to = Date.parse(cert.validTo);
      if (now < from) return { status: 'bad', note: `CA ${file} is not valid before ${cert.validFrom}` };
      if (now > to) return { status: 'bad', note: `CA ${file} expired ${cert.validTo}` };
      if (to - now < NEAR_EXPIRY_MS) return { status: 'bad', note: `CA ${file} expires soon: ${cert.validTo}` };
      return { status: 'ok', note: `CA ${file} valid until ${cert.validTo}` };
    } catch (err) {
      return { status: 'bad', note: `CA ${file} cannot be read as a certificate: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { status: 'skipped', note: `no CA in ${dataDir} yet: CA checks skipped` };
};
