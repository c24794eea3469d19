import type { ProxyState } from './mesh-status.js';

/** One line of `weft check` about a proxy's certificate. */
export interface CertificateCheckLine {
  readonly status: 'ok' | 'warn' | 'fail';
  readonly text: string;
}

/**
 * Whether a proxy's workload certificate is fresh: expired is a failure; past three
 * quarters of its lifetime is a warning (proxies renew at half of it, so renewals have been
 * failing for a quarter of a lifetime). Nothing to say for a proxy without one.
 */
export const certificateCheck = (who: string, cert: ProxyState['certificate'], now: number): CertificateCheckLine | undefined => {
  if (cert === undefined) return undefined;
  const until = Date.parse(cert.notAfter);
  if (until <= now) return { status: 'fail', text: `${who} certificate ${cert.spiffeId} expired ${cert.notAfter}` };
  const from = cert.notBefore === undefined ? undefined : Date.parse(cert.notBefore);
  if (from !== undefined && now - from > 0.75 * (until - from)) {
    return { status: 'warn', text: `${who} certificate ${cert.spiffeId} was not renewed (renewal is due at half its lifetime); it expires ${cert.notAfter}` };
  }
  return { status: 'ok', text: `${who} certificate ${cert.spiffeId} valid until ${cert.notAfter}` };
};
