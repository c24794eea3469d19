import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  IDENTITY_ISSUE_PATH,
  IDENTITY_TRUST_BUNDLE_PATH,
  IssueResponseSchema,
  readJoinToken,
  TrustBundleResponseSchema,
  type IssueRequest,
} from '@weft/api/data-plane';
import { parseSpiffeId, WeftError, type Logger } from '@weft/core';
import { Backoff } from '../control/backoff.js';
import { controlPlaneTls, publicKeyHash } from './control-plane-tls.js';
import { h2Json } from './h2-json.js';
import { createKeyAndCsr } from './key-and-csr.js';

/** A workload certificate the proxy holds: its key (made here), the chain, and what it trusts. */
export interface IssuedCertificate {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly keyPem: string;
  readonly chainPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The roots the mesh trusts, as the control plane last said. */
  readonly trustBundle: readonly string[];
}

/** Options of {@link WorkloadIdentity}. */
export interface WorkloadIdentityOptions {
  /** The control plane's stream address, `HOST:PORT` (issuance is served there too). */
  readonly address: string;
  readonly service: string;
  readonly namespace: string;
  /** Join token: authenticates the first issuance, and pins the control plane's CA. */
  readonly token?: string;
  /** A certificate from before (a restart with a cache): renewal starts from it. */
  readonly previous?: IssuedCertificate;
  readonly logger: Logger;
  /** Called with every new certificate, the first one included. */
  readonly onCertificate: (cert: IssuedCertificate) => void;
  /** Share of the lifetime after which the certificate is renewed (default 0.5). */
  readonly renewAt?: number;
  /** Retry delays after a failed issuance (default 1 s doubling to 60 s, full jitter). */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
}

const leafOf = (chainPem: string): X509Certificate => new X509Certificate(chainPem);

/**
 * The proxy's workload identity: gets the first certificate (with the join token), then
 * renews it at half its lifetime, authenticated by the certificate it still holds. The
 * private key is generated here for every certificate and never sent anywhere. A failed
 * renewal keeps the current certificate and retries with backoff; new certificates are
 * handed to `onCertificate`, which swaps them in for new connections only.
 */
export class WorkloadIdentity {
  readonly #o: WorkloadIdentityOptions;
  readonly #backoff: Backoff;
  #current: IssuedCertificate | undefined;
  #trustBundle: readonly string[] | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #renewing: Promise<void> | undefined;

  constructor(options: WorkloadIdentityOptions) {
    this.#o = options;
    this.#backoff = new Backoff({ baseMs: options.backoff?.baseMs ?? 1000, maxMs: options.backoff?.maxMs ?? 60_000 });
    this.#current = options.previous;
    this.#trustBundle = options.previous?.trustBundle;
  }

  /** The certificate in use, if any. */
  get current(): IssuedCertificate | undefined {
    return this.#current;
  }

  /** The trust bundle to verify the control plane with (its latest known). */
  get trustBundle(): readonly string[] | undefined {
    return this.#trustBundle;
  }

  /**
   * Gets a certificate: the first from the join token, retrying with backoff while the
   * control plane is unreachable. A refusal that no retry can fix (a bad or revoked token,
   * a CA that does not match the token) is thrown at once.
   */
  async start(): Promise<IssuedCertificate> {
    if (this.#current !== undefined && this.#current.notAfter.getTime() > Date.now()) {
      this.#o.onCertificate(this.#current);
      this.#schedule();
      return this.#current;
    }
    for (;;) {
      try {
        const cert = await this.#issue();
        this.#install(cert);
        return cert;
      } catch (err) {
        if (this.#stopped || isPermanent(err)) throw err;
        const delay = this.#backoff.next();
        this.#o.logger.warn({ err: (err as Error).message, retryInMs: delay }, 'getting the workload certificate failed (WEFT_ERR_IDENTITY_ISSUANCE); retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /**
   * The mesh's trust bundle changed (a root rotation step). When the root that signs now
   * (`signerHash`) is not the one our certificate chains to, renew at once.
   */
  trustBundleChanged(bundle: readonly string[], signerHash: string | undefined): void {
    this.#trustBundle = bundle;
    const cur = this.#current;
    if (cur === undefined || signerHash === undefined || this.#stopped) return;
    if (rootHashOf(cur.chainPem, bundle) !== signerHash) {
      this.#o.logger.info({ signer: signerHash }, 'the signing root changed; renewing the workload certificate');
      void this.renewNow();
    }
  }

  /** Renews now (also what the timer calls); concurrent calls share one renewal. */
  renewNow(): Promise<void> {
    this.#renewing ??= this.#renew().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  async #renew(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.#install(await this.#issue());
    } catch (err) {
      const left = (this.#current?.notAfter.getTime() ?? 0) - Date.now();
      const delay = Math.min(this.#backoff.next(), Math.max(1000, left / 4));
      this.#o.logger.warn({ err: (err as Error).message, expiresInMs: left, retryInMs: delay }, 'renewing the workload certificate failed (WEFT_ERR_IDENTITY_ISSUANCE); the current one stays in use');
      this.#arm(delay);
    }
  }

  #install(cert: IssuedCertificate): void {
    this.#backoff.reset();
    this.#current = cert;
    this.#trustBundle = cert.trustBundle;
    this.#o.logger.info({ spiffeId: cert.spiffeId, notAfter: cert.notAfter.toISOString() }, 'workload certificate issued');
    this.#o.onCertificate(cert);
    this.#schedule();
  }

  #schedule(): void {
    const cur = this.#current;
    if (cur === undefined) return;
    const life = cur.notAfter.getTime() - cur.notBefore.getTime();
    const at = cur.notBefore.getTime() + life * (this.#o.renewAt ?? 0.5);
    this.#arm(Math.max(0, at - Date.now()));
  }

  #arm(delayMs: number): void {
    if (this.#stopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    // setTimeout holds at most 2^31-1 ms; a longer wait re-arms on the way.
    const step = Math.min(delayMs, 2 ** 31 - 1);
    this.#timer = setTimeout(() => (step < delayMs ? this.#arm(delayMs - step) : void this.renewNow()), step);
    this.#timer.unref();
  }

  async #issue(): Promise<IssuedCertificate> {
    const o = this.#o;
    const cur = this.#current;
    let bundle = this.#trustBundle;
    let trustDomain = cur?.trustDomain;
    if (bundle === undefined || trustDomain === undefined) {
      const pinned = await this.#pinnedTrustBundle();
      bundle = pinned.trustBundle;
      trustDomain = pinned.trustDomain;
    }
    // With a certificate, the CSR asks for the same identity and mutual TLS authenticates it;
    // the first time, the CA assigns the identity the token allows.
    const useCert = cur !== undefined && cur.notAfter.getTime() > Date.now();
    if (!useCert && o.token === undefined) {
      throw new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', 'no join token and no valid certificate to authenticate with: start the proxy with --token-file (or WEFT_TOKEN)', {});
    }
    const { keyPem, csrPem } = await createKeyAndCsr(useCert ? cur.spiffeId : undefined);
    const body: IssueRequest = { service: o.service, namespace: o.namespace, csrPem };
    const answer = await h2Json({
      address: o.address,
      path: IDENTITY_ISSUE_PATH,
      method: 'POST',
      body,
      tls: controlPlaneTls(bundle, trustDomain, useCert ? cur : undefined),
      ...(useCert ? {} : { headers: { authorization: `Bearer ${o.token ?? ''}` } }),
      schema: IssueResponseSchema,
    });
    const leaf = leafOf(answer.chainPem);
    const id = parseSpiffeId(answer.spiffeId);
    if (id === undefined || id.namespace !== o.namespace) {
      throw new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', `the control plane issued ${answer.spiffeId}, not an identity in namespace ${o.namespace}`, {});
    }
    if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) {
      throw new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', 'the issued certificate is not for the key this proxy generated', {});
    }
    return {
      spiffeId: answer.spiffeId,
      trustDomain: id.trustDomain,
      keyPem,
      chainPem: answer.chainPem,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      trustBundle: answer.trustBundle,
    };
  }

  /**
   * First contact: fetches the trust bundle over a connection that cannot be verified yet,
   * and accepts it only when one of its roots has the public-key hash the join token pins.
   * Everything after is verified against that bundle: there is no trust-on-first-use gap.
   */
  async #pinnedTrustBundle(): Promise<{ trustBundle: string[]; trustDomain: string }> {
    const token = this.#o.token;
    if (token === undefined) {
      throw new WeftError('WEFT_ERR_IDENTITY_ISSUANCE', 'no join token: the proxy has no way to verify the control plane (start it with --token-file)', {});
    }
    const read = readJoinToken(token);
    if (!read.ok) throw new WeftError('WEFT_ERR_TOKEN_INVALID', `the join token is malformed: ${read.reason}`, {});
    const answer = await h2Json({
      address: this.#o.address,
      path: IDENTITY_TRUST_BUNDLE_PATH,
      method: 'GET',
      tls: { rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] },
      schema: TrustBundleResponseSchema,
    });
    const pin = read.token.payload.ca;
    if (!answer.trustBundle.some((pem) => publicKeyHash(pem) === pin)) {
      throw new WeftError('WEFT_ERR_IDENTITY_CA_MISMATCH', `no root of the control plane at ${this.#o.address} has the public-key hash ${pin} that the join token pins`, {
        address: this.#o.address,
      });
    }
    return answer;
  }
}

/** Refusals that retrying cannot fix. */
const isPermanent = (err: unknown): boolean =>
  err instanceof WeftError &&
  (err.code === 'WEFT_ERR_IDENTITY_CA_MISMATCH' || err.code.startsWith('WEFT_ERR_TOKEN_') || err.code === 'WEFT_ERR_IDENTITY_REFUSED');

/** `publicKeyHash` of the root of `bundle` that issued the top of `chainPem`, if any. */
export const rootHashOf = (chainPem: string, bundle: readonly string[]): string | undefined => {
  const certs = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const top = certs[certs.length - 1];
  if (top === undefined) return undefined;
  const topCert = new X509Certificate(top);
  for (const pem of bundle) {
    const root = new X509Certificate(pem);
    if (topCert.checkIssued(root) && topCert.verify(root.publicKey)) return publicKeyHash(pem);
  }
  return undefined;
};
