import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certFiles } from './plan.js';

const run = promisify(execFile);

/**
 * The demo's throwaway PKI, made with the `openssl` command (present on every Debian
 * machine): an EC P-256 root CA valid for a few days, and for each service one leaf
 * certificate usable as TLS server and client certificate, with SANs
 * `DNS:<service>`, `URI:spiffe://<trustDomain>/ns/<namespace>/sa/<service>` and
 * `IP:127.0.0.1`. The control plane's CA will replace all of this.
 */

const opensslConfig = (cn: string, sans: string): string =>
  [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    `CN = ${cn}`,
    '[v3_ca]',
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
    '[v3_leaf]',
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = serverAuth,clientAuth',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    ...(sans === '' ? [] : [`subjectAltName = ${sans}`]),
    '',
  ].join('\n');

const serial = (): string => {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
  return `0x${b.toString('hex')}`;
};

const openssl = async (cwd: string, args: string[]): Promise<void> => {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('the demo needs the openssl command to make its certificates, and it is not on PATH');
    throw new Error(`openssl ${args[0] ?? ''} failed: ${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
};

export interface DemoPkiOptions {
  readonly dir: string;
  readonly services: readonly string[];
  readonly namespace: string;
  readonly trustDomain: string;
  readonly days?: number;
}

/** Makes the CA and one leaf per service in `dir` (replacing what was there). */
export const createDemoPki = async (opts: DemoPkiOptions): Promise<void> => {
  const { dir } = opts;
  const days = String(opts.days ?? 7);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const at = (f: string): string => join(dir, f);
  const genKey = (file: string): Promise<void> =>
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(file)]);

  await writeFile(at('ca.cnf'), opensslConfig('Weft Demo CA (throwaway)', ''));
  await genKey('ca.key');
  await openssl(dir, ['req', '-x509', '-new', '-config', at('ca.cnf'), '-extensions', 'v3_ca', '-key', at('ca.key'), '-sha256', '-days', days, '-set_serial', serial(), '-out', at('ca.crt')]);

  await Promise.all(
    opts.services.map(async (service) => {
      const files = certFiles(dir, service);
      const cnf = at(`${service}.cnf`);
      const csr = at(`${service}.csr`);
      const sans = `DNS:${service},URI:spiffe://${opts.trustDomain}/ns/${opts.namespace}/sa/${service},IP:127.0.0.1`;
      await writeFile(cnf, opensslConfig(service, sans));
      await openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', files.keyFile]);
      await openssl(dir, ['req', '-new', '-config', cnf, '-key', files.keyFile, '-out', csr]);
      await openssl(dir, ['x509', '-req', '-in', csr, '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-set_serial', serial(), '-days', days, '-sha256', '-extfile', cnf, '-extensions', 'v3_leaf', '-out', files.certFile]);
      await rm(csr);
      await chmod(files.keyFile, 0o600);
    }),
  );
  await chmod(at('ca.key'), 0o600);
};
