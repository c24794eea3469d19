import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { WeftError } from '@weft/core';
import { BUNDLE_FILE, CA_DIR, ensurePrivateDir, readOptional, writeDurably } from './ca-files.js';
import { daysLeft, type CertificateInfo } from './certificate-info.js';
import { checkCsr } from './csr.js';
import { issueLeaf, type IssuedCertificate } from './issue.js';
import { generateP256, privateKeyPem } from './keys.js';
import { PluginCa } from './plugin-ca.js';
import { SelfManagedCa } from './rotation.js';
import { checkTrustDomain, CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT, parseWorkloadSpiffeId, spiffeIdOf } from './spiffe-id.js';
import type { CaExpiry, CaSource, RotationState, RotationStep } from './types.js';

/** Options of {@link CertificateAuthority.open}. */
export interface CertificateAuthorityOptions {
  /** The control plane's data dir; the CA keeps its files in `<dataDir>/ca/`. */
  readonly dataDir: string;
  /** The SPIFFE trust domain of issued identities, e.g. `cluster.local`. */
  readonly trustDomain: string;
  /** Plug-in CA: the intermediate certificate, then its chain up to and including the organisation's root (PEM). */
  readonly caCertFile?: string;
  /** Plug-in CA: the intermediate's private key (PEM, unencrypted). */
  readonly caKeyFile?: string;
  /** The time (tests fake it). Default: the system clock. */
  readonly clock?: () => Date;
}

/** A CSR to sign for a workload. */
export interface WorkloadCertificateRequest {
  readonly csrPem: string;
  /** The identity to issue, `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`, decided by the caller (from the join token or the current certificate). */
  readonly spiffeId: string;
  readonly lifetimeMs: number;
}

/** A certificate for the control plane's own TLS endpoint, with its key. */
export interface ServerCertificate {
  /** PKCS#8 PEM; generated here, never written anywhere by the CA. */
  readonly keyPem: string;
  /** The leaf, then any intermediates. */
  readonly chainPem: string;
  readonly notAfter: Date;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/**
 * The mesh's certificate authority: issues workload certificates (X.509-SVIDs) for CSRs
 * and the control plane's own TLS certificate, keeps the trust bundle, rotates its root.
 *
 * Self-managed (default): an ECDSA P-256 root made on first open in `<dataDir>/ca/`, its
 * key in a 0600 file that no API returns. Plug-in: the organisation's intermediate and key
 * from `caCertFile`/`caKeyFile`; issued chains carry the intermediate(s), the bundle holds
 * the organisation's root. Either way `<dataDir>/ca/ca.crt` holds the trust bundle.
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  readonly #source: CaSource;
  readonly #clock: () => Date;
  readonly #bundleFile: string;
  readonly #listeners = new Set<() => void>();
  /** Steps run one after another: each sees the state the previous one left. */
  #rotations: Promise<unknown> = Promise.resolve();

  private constructor(trustDomain: string, source: CaSource, clock: () => Date, bundleFile: string) {
    this.trustDomain = trustDomain;
    this.#source = source;
    this.#clock = clock;
    this.#bundleFile = bundleFile;
  }

  /**
   * Opens the CA: loads (or on first use creates) the self-managed root, or reads and
   * checks the plug-in CA files when both `caCertFile` and `caKeyFile` are given (one
   * without the other is `WEFT_ERR_CONFIG_INVALID`). Unusable files are
   * `WEFT_ERR_CA_FILES_INVALID` naming the file and the reason.
   */
  static async open(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const trustDomain = checkTrustDomain(options.trustDomain);
    const clock = options.clock ?? (() => new Date());
    const dir = join(resolve(options.dataDir), CA_DIR);
    const { caCertFile, caKeyFile } = options;
    if ((caCertFile === undefined) !== (caKeyFile === undefined)) {
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'a plug-in CA needs both its certificate file and its key file', { field: caCertFile === undefined ? 'caCertFile' : 'caKeyFile' });
    }
    let source: CaSource;
    if (caCertFile !== undefined && caKeyFile !== undefined) {
      source = await PluginCa.open({ certFile: resolve(caCertFile), keyFile: resolve(caKeyFile) }, clock());
      await ensurePrivateDir(dir);
    } else {
      source = await SelfManagedCa.open(dir, trustDomain, clock);
    }
    const ca = new CertificateAuthority(trustDomain, source, clock, join(dir, BUNDLE_FILE));
    await ca.#writeBundleFile();
    return ca;
  }

  /** `self-managed` (Weft made the root) or `plug-in` (your organisation's intermediate). */
  get mode(): 'self-managed' | 'plug-in' {
    return this.#source.mode;
  }

  /** The PEM roots trusted now, oldest first (two during a rotation). */
  get trustBundle(): string[] {
    return this.#source.anchors().map((a) => a.pem);
  }

  /** `sha256:<hex>` of the DER SubjectPublicKeyInfo of the first trust anchor (kubeadm's discovery hash). */
  get caHash(): string {
    return this.#anchors()[0]?.caHash ?? '';
  }

  /** The hash of every trust anchor, in bundle order. */
  get caHashes(): string[] {
    return this.#anchors().map((a) => a.caHash);
  }

  /**
   * The hash a new join token pins: the newest trusted root. During a rotation that is
   * the incoming root, so a token made then stays usable after the old root is retired.
   */
  get pinnedCaHash(): string {
    return this.#anchors().at(-1)?.caHash ?? '';
  }

  /** The SPIFFE ID of the control plane itself. */
  get controlPlaneSpiffeId(): string {
    return spiffeIdOf(this.trustDomain, CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE_ACCOUNT);
  }

  /**
   * Signs a workload's CSR for `spiffeId`. The CSR's self-signature must verify and its key
   * be EC P-256 (`WEFT_ERR_CA_CSR_INVALID`); it may request no subject alternative name, or
   * exactly the URI `spiffeId`; any other requested identity is `WEFT_ERR_CA_CSR_IDENTITY`.
   * The leaf has that one URI SAN, subject `O=<trust domain>`, and is valid from a minute
   * ago for `lifetimeMs`, but never beyond the CA chain.
   */
  async issueWorkloadCertificate(req: WorkloadCertificateRequest): Promise<IssuedCertificate> {
    parseWorkloadSpiffeId(req.spiffeId, this.trustDomain);
    const csr = await checkCsr(req.csrPem);
    const foreign = [...csr.uris.filter((u) => u !== req.spiffeId).map((u) => `URI:${u}`), ...csr.otherNames];
    if (foreign.length > 0 || csr.uris.length > 1) {
      const asked = foreign.length > 0 ? foreign.join(', ') : `${csr.uris.length} URI names`;
      throw new WeftError(
        'WEFT_ERR_CA_CSR_IDENTITY',
        `the certificate signing request asks for ${asked}, but only ${req.spiffeId} is issued here: request no subject alternative name, or exactly URI:${req.spiffeId}`,
        { spiffeId: req.spiffeId },
      );
    }
    return issueLeaf(this.#source.signer(), {
      publicKey: csr.publicKey,
      sans: [{ type: 'url', value: req.spiffeId }],
      subject: [{ O: [this.trustDomain] }],
      now: this.#clock(),
      lifetimeMs: req.lifetimeMs,
    });
  }

  /**
   * A certificate for the control plane's own TLS endpoint, with a fresh EC P-256 key made
   * here and returned (the control plane keeps it in memory; the CA writes it nowhere).
   * SANs: each host as DNS or IP, and the URI `spiffe://<td>/ns/weft-system/sa/weft-control-plane`.
   */
  async issueServerCertificate(req: { readonly hosts: readonly string[]; readonly lifetimeMs: number }): Promise<ServerCertificate> {
    const sans = req.hosts.map((host) => {
      if (isIP(host) !== 0) return { type: 'ip' as const, value: host };
      if (DNS_NAME.test(host)) return { type: 'dns' as const, value: host.toLowerCase() };
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${JSON.stringify(host)} is neither an IP address nor a DNS name`, { field: 'hosts' });
    });
    const keys = await generateP256();
    const issued = await issueLeaf(this.#source.signer(), {
      publicKey: keys.publicKey,
      sans: [...sans, { type: 'url', value: this.controlPlaneSpiffeId }],
      subject: [{ O: [this.trustDomain] }],
      now: this.#clock(),
      lifetimeMs: req.lifetimeMs,
    });
    return { keyPem: privateKeyPem(keys.privateKey), chainPem: issued.chainPem, notAfter: issued.notAfter };
  }

  /** Rotation step 1: a new root, trusted but not signing yet. Self-managed CA only. */
  beginRotation(): Promise<RotationState> {
    return this.rotate('introduce');
  }

  /** Rotation step 2: the new root signs; both stay trusted. */
  activateNext(): Promise<RotationState> {
    return this.rotate('activate');
  }

  /** Rotation step 3: the old root leaves the trust bundle (its files are archived). */
  retireOld(): Promise<RotationState> {
    return this.rotate('retire');
  }

  /**
   * Performs one rotation step (durable when this resolves). Repeating the step just done
   * changes nothing; a step out of order is `WEFT_ERR_CA_ROTATION_ORDER`; a plug-in CA
   * refuses with `WEFT_ERR_CA_ROTATION_UNSUPPORTED`. Listeners hear of every change.
   */
  rotate(step: RotationStep): Promise<RotationState> {
    const run = this.#rotations.then(async () => {
      if (await this.#source.rotate(step)) {
        await this.#writeBundleFile();
        for (const fn of this.#listeners) {
          try {
            fn();
          } catch {
            // A listener's failure is its own: the step is done and durable either way.
          }
        }
      }
      return this.rotationState();
    });
    this.#rotations = run.catch(() => undefined);
    return run;
  }

  /** The rotation phase and every trusted root: which one new certificates chain to. */
  rotationState(): RotationState {
    const signing = this.#source.signingAnchor().caHash;
    return {
      phase: this.#source.phase(),
      roots: this.#anchors().map((a) => ({ caHash: a.caHash, subject: a.subject, notAfter: a.notAfter, signing: a.caHash === signing, trusted: true })),
    };
  }

  /** Every root and intermediate with its expiry (for `weft check`, which warns within 30 days). */
  expiries(): CaExpiry[] {
    const now = this.#clock();
    const signingRoot = this.#source.signingAnchor().caHash;
    const signer = this.#source.signer().info.caHash;
    const entry = (role: CaExpiry['role'], c: CertificateInfo, signing: boolean): CaExpiry => ({ role, subject: c.subject, caHash: c.caHash, notAfter: c.notAfter, daysLeft: daysLeft(c.notAfter, now), signing });
    return [...this.#anchors().map((a) => entry('root', a, a.caHash === signingRoot)), ...this.#source.intermediates().map((c) => entry('intermediate', c, c.caHash === signer))];
  }

  /** Calls `listener` after every change of the trust bundle or of the signing root; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #anchors(): readonly CertificateInfo[] {
    return this.#source.anchors();
  }

  /** `<dataDir>/ca/ca.crt`: the trust bundle, for people and tools (`weft check`, `openssl verify`). */
  async #writeBundleFile(): Promise<void> {
    const text = this.trustBundle.join('');
    if ((await readOptional(this.#bundleFile)) !== text) await writeDurably(this.#bundleFile, text);
  }
}
