import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of a PEM certificate and its PEM (PKCS#8) private key. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
}

/** A leaf certificate of the test PKI. */
export interface LeafCert extends CertFiles {
  readonly name: string;
  /** Its one URI SAN: `spiffe://<trustDomain>/ns/default/sa/<name>`. */
  readonly spiffeId: string;
}

/** Key material for a TLS endpoint, as `tls.createServer`/`tls.connect` take it. */
export interface TlsMaterial {
  readonly key: Buffer;
  readonly cert: Buffer;
  /** The test CA, to trust the peer. */
  readonly ca: Buffer;
}

/** What {@link createTestPki} made. */
export interface TestPki {
  readonly dir: string;
  readonly trustDomain: string;
  /** The test root CA (self-signed, EC P-256). */
  readonly ca: CertFiles;
  /** One leaf per requested name, signed by `ca`. */
  readonly leaves: Readonly<Record<string, LeafCert>>;
  /** A self-signed leaf shaped like the others (name `untrusted`) that `ca` did not sign. */
  readonly untrusted: LeafCert;
  /** The leaf for `name` (`untrusted` gives the self-signed one); throws if it was not requested. */
  leaf(name: string): LeafCert;
  /** The leaf's key and certificate and the CA, read from disk; `untrusted` works too. */
  tls(name: string): TlsMaterial;
}

/** Options of {@link createTestPki}. */
export interface TestPkiOptions {
  /** Trust domain of the SPIFFE IDs. Default `test.local`. */
  trustDomain?: string;
  /** Validity of every certificate, in days. Default 30. */
  days?: number;
}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i;

/**
 * Generates, with the `openssl` command-line tool, a test PKI in `dir` (created if
 * missing): an EC P-256 root CA (`ca.crt`, `ca.key`), and for each name a leaf
 * (`leaf-<name>.crt`, `leaf-<name>.key`) signed by it, usable as TLS server and client
 * certificate, with SANs `DNS:<name>`, `URI:spiffe://<trustDomain>/ns/default/sa/<name>`
 * and `IP:127.0.0.1`; plus `untrusted.crt`/`untrusted.key`, self-signed with the same
 * shape, for tests that must see a handshake fail. Names must be DNS-like
 * (letters, digits, `-`, `.`), and `untrusted` is reserved. Throws with openssl's stderr if a step fails.
 */
export const createTestPki = async (dir: string, names: readonly string[], opts: TestPkiOptions = {}): Promise<TestPki> => {
  const trustDomain = opts.trustDomain ?? 'test.local';
  const days = String(opts.days ?? 30);
  for (const n of [...names, trustDomain]) {
    if (!NAME.test(n)) throw new Error(`createTestPki: ${JSON.stringify(n)} is not a DNS-like name`);
  }
  if (new Set(names).size !== names.length) throw new Error('createTestPki: duplicate names');
  if (names.includes('untrusted')) throw new Error('createTestPki: "untrusted" is reserved for the self-signed leaf');
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const at = (file: string): string => join(root, file);
  const spiffeId = (name: string): string => `spiffe://${trustDomain}/ns/default/sa/${name}`;

  // Our own config file for every step, so that the system openssl.cnf (which differs
  // between distributions) adds no extensions of its own.
  const config = (cn: string, sans: string): string =>
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
      `subjectAltName = ${sans}`,
      '',
    ].join('\n');
  const leafSans = (name: string): string => `DNS:${name},URI:${spiffeId(name)},IP:127.0.0.1`;
  const serial = (): string => {
    const b = randomBytes(16);
    b[0] = (b[0] ?? 0) & 0x7f; // positive, as RFC 5280 requires
    return `0x${b.toString('hex')}`;
  };
  const openssl = async (...args: string[]): Promise<void> => {
    try {
      await run('openssl', args, { cwd: root });
    } catch (err) {
      const stderr = typeof err === 'object' && err !== null && 'stderr' in err ? String(err.stderr) : '';
      throw new Error(`createTestPki: openssl ${args[0] ?? ''} failed: ${stderr || String(err)}`, { cause: err });
    }
  };
  const genKey = (file: string): Promise<void> =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', at(file));

  const ca: CertFiles = { cert: at('ca.crt'), key: at('ca.key') };
  await writeFile(at('ca.cnf'), config('Weft Test CA', ''));
  await genKey('ca.key');
  await openssl('req', '-x509', '-new', '-config', at('ca.cnf'), '-extensions', 'v3_ca', '-key', ca.key, '-sha256', '-days', days, '-set_serial', serial(), '-out', ca.cert);

  const leaves: Record<string, LeafCert> = {};
  for (const name of names) {
    const leaf: LeafCert = { name, spiffeId: spiffeId(name), cert: at(`leaf-${name}.crt`), key: at(`leaf-${name}.key`) };
    const cnf = at(`leaf-${name}.cnf`);
    const csr = at(`leaf-${name}.csr`);
    await writeFile(cnf, config(name, leafSans(name)));
    await genKey(`leaf-${name}.key`);
    await openssl('req', '-new', '-config', cnf, '-key', leaf.key, '-out', csr);
    await openssl('x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial(), '-days', days, '-sha256', '-extfile', cnf, '-extensions', 'v3_leaf', '-out', leaf.cert);
    await rm(csr);
    leaves[name] = leaf;
  }

  const untrusted: LeafCert = { name: 'untrusted', spiffeId: spiffeId('untrusted'), cert: at('untrusted.crt'), key: at('untrusted.key') };
  await writeFile(at('untrusted.cnf'), config('untrusted', leafSans('untrusted')));
  await genKey('untrusted.key');
  await openssl('req', '-x509', '-new', '-config', at('untrusted.cnf'), '-extensions', 'v3_leaf', '-key', untrusted.key, '-sha256', '-days', days, '-set_serial', serial(), '-out', untrusted.cert);

  const leaf = (name: string): LeafCert => {
    if (name === 'untrusted') return untrusted;
    const l = leaves[name];
    if (l === undefined) throw new Error(`createTestPki: no leaf named ${name} (have: ${Object.keys(leaves).join(', ')})`);
    return l;
  };
  return {
    dir: root,
    trustDomain,
    ca,
    leaves,
    untrusted,
    leaf,
    tls: (name) => {
      const l = leaf(name);
      return { key: readFileSync(l.key), cert: readFileSync(l.cert), ca: readFileSync(ca.cert) };
    },
  };
};
