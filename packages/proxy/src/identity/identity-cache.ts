import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CachedIdentitySchema } from '@weft/api/data-plane';
import type { IssuedCertificate } from './workload-identity.js';

/**
 * The workload certificate and its key on disk, so that a proxy restarted while the control
 * plane is down can serve mTLS at once (as its snapshot cache lets it route). The file is
 * mode 0600 in the proxy's own cache dir; it is written atomically (temp file, fsync,
 * rename). A file that does not parse, or whose certificate has expired, is not used.
 */
export class IdentityCache {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The cached certificate if it is usable now; never throws. */
  async read(): Promise<IssuedCertificate | undefined> {
    try {
      const parsed = CachedIdentitySchema.safeParse(JSON.parse(await readFile(this.path, 'utf8')));
      if (!parsed.success) return undefined;
      const leaf = new X509Certificate(parsed.data.chainPem);
      const notAfter = new Date(leaf.validTo);
      if (notAfter.getTime() <= Date.now()) return undefined;
      return { ...parsed.data, notBefore: new Date(leaf.validFrom), notAfter };
    } catch {
      return undefined;
    }
  }

  async write(cert: IssuedCertificate): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = join(dirname(this.path), `.identity.${randomBytes(4).toString('hex')}.tmp`);
    const body = JSON.stringify({ spiffeId: cert.spiffeId, trustDomain: cert.trustDomain, keyPem: cert.keyPem, chainPem: cert.chainPem, trustBundle: cert.trustBundle });
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
  }
}
