import { WeftError } from '@weft/core';

/**
 * SPIFFE IDs as Weft issues them: `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`,
 * the trust domain as the Mesh resource allows it (lowercase letters, digits, `.`, `-`,
 * `_`), namespace and service account RFC 1123 labels (Weft's names for namespaces and
 * services), so that an ID is never ambiguous and never needs escaping.
 */

const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The namespace and service account of the control plane's own identity. */
export const CONTROL_PLANE_NAMESPACE = 'weft-system';
export const CONTROL_PLANE_SERVICE_ACCOUNT = 'weft-control-plane';

/** `trustDomain` if it is a valid SPIFFE trust domain, else `WEFT_ERR_CONFIG_INVALID`. */
export const checkTrustDomain = (trustDomain: string): string => {
  if (TRUST_DOMAIN.test(trustDomain)) return trustDomain;
  throw new WeftError(
    'WEFT_ERR_CONFIG_INVALID',
    `trust domain ${JSON.stringify(trustDomain)} is not valid: lowercase letters, digits, ".", "-" and "_", at most 255 characters`,
    { field: 'trustDomain' },
  );
};

/** The SPIFFE ID of a workload. */
export const spiffeIdOf = (trustDomain: string, namespace: string, serviceAccount: string): string => `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;

/**
 * The namespace and service account of a workload SPIFFE ID of `trustDomain`, or
 * `WEFT_ERR_CA_SPIFFE_ID_INVALID` saying which part is wrong.
 */
export const parseWorkloadSpiffeId = (id: string, trustDomain: string): { namespace: string; serviceAccount: string } => {
  const bad = (why: string): WeftError => new WeftError('WEFT_ERR_CA_SPIFFE_ID_INVALID', `SPIFFE ID ${JSON.stringify(id.slice(0, 300))} ${why}`, { trustDomain });
  const prefix = `spiffe://${trustDomain}/`;
  if (!id.startsWith('spiffe://')) throw bad('must start with spiffe://');
  if (!id.startsWith(prefix)) throw bad(`is not in this mesh's trust domain ${trustDomain}`);
  const parts = id.slice(prefix.length).split('/');
  const [ns, namespace = '', sa, serviceAccount = ''] = parts;
  if (parts.length !== 4 || ns !== 'ns' || sa !== 'sa') throw bad(`must have the form spiffe://${trustDomain}/ns/<namespace>/sa/<service account>`);
  if (!LABEL.test(namespace)) throw bad('has a namespace that is not an RFC 1123 label (lowercase letters, digits and "-", at most 63)');
  if (!LABEL.test(serviceAccount)) throw bad('has a service account that is not an RFC 1123 label (lowercase letters, digits and "-", at most 63)');
  return { namespace, serviceAccount };
};
