import type { X509Certificate } from 'node:crypto';

/** A SPIFFE ID's parts: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
export interface SpiffeId {
  readonly id: string;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

const WORKLOAD_ID = /^spiffe:\/\/([a-z0-9._-]+)\/ns\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/sa\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/** Parses a workload SPIFFE ID; undefined for anything else. */
export const parseSpiffeId = (id: string): SpiffeId | undefined => {
  const m = WORKLOAD_ID.exec(id);
  if (m === null) return undefined;
  return { id, trustDomain: m[1] as string, namespace: m[2] as string, serviceAccount: m[4] as string };
};

/**
 * The SPIFFE ID a certificate names: its one URI SAN. An X.509-SVID has exactly one; a
 * certificate with none or several names no identity (undefined), so it can match nothing.
 */
export const spiffeIdOf = (cert: X509Certificate | undefined): string | undefined => {
  const san = cert?.subjectAltName;
  if (san === undefined) return undefined;
  let found: string | undefined;
  for (const entry of san.split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    if (found !== undefined) return undefined;
    // Node quotes a value that holds a separator; such a value is no SPIFFE ID.
    found = entry.slice(4);
  }
  return found !== undefined && found.startsWith('spiffe://') ? found : undefined;
};
