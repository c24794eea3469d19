import { StoreError } from './errors.js';

/**
 * Identifies one stored document. Encoded as the string `kind/namespace/name`, which is how
 * it is persisted (and will be an etcd key below a prefix); the encoding orders items.
 * `namespace` is `''` for cluster-scoped kinds (`Mesh//default`).
 */
export interface StoreKey {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** Selects `kind`, or `kind` in `namespace`; an empty filter selects everything. */
export interface KeyFilter {
  readonly kind?: string;
  readonly namespace?: string;
}

/**
 * One key segment: ASCII letters, digits, `.`, `_`, `-`, starting and ending with a letter or
 * digit, at most 253 characters (a DNS subdomain, the longest Kubernetes name). ASCII only,
 * so that JavaScript's string order is byte order, the order etcd lists keys in.
 */
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

const checkSegment = (field: string, v: unknown, allowEmpty: boolean): string => {
  if (typeof v === 'string' && (SEGMENT.test(v) || (allowEmpty && v === ''))) return v;
  throw new StoreError(
    'WEFT_ERR_STORE_INVALID_KEY',
    `key ${field} ${JSON.stringify(v) ?? String(v)} is not valid: letters, digits, '.', '_', '-', ` +
      `starting and ending with a letter or digit, at most 253 characters${allowEmpty ? ' (or empty)' : ''}`,
    { field },
  );
};

/** Validates `key` and returns its encoding `kind/namespace/name`; throws `WEFT_ERR_STORE_INVALID_KEY`. */
export const encodeKey = (key: StoreKey): string =>
  `${checkSegment('kind', key.kind, false)}/${checkSegment('namespace', key.namespace, true)}/${checkSegment('name', key.name, false)}`;

/** The inverse of `encodeKey` for strings the store produced itself. */
export const decodeKey = (s: string): StoreKey => {
  const [kind = '', namespace = '', name = ''] = s.split('/');
  return { kind, namespace, name };
};

/** True when `s` is a well-formed encoded key (used when reading files back). */
export const isEncodedKey = (s: string): boolean => {
  const parts = s.split('/');
  return (
    parts.length === 3 &&
    SEGMENT.test(parts[0] ?? '') &&
    (parts[1] === '' || SEGMENT.test(parts[1] ?? '')) &&
    SEGMENT.test(parts[2] ?? '')
  );
};

/** The key prefix a filter selects: `''`, `kind/` or `kind/namespace/`. */
export const filterPrefix = (filter: KeyFilter = {}): string => {
  if (filter.kind === undefined) {
    if (filter.namespace !== undefined) {
      throw new StoreError('WEFT_ERR_STORE_INVALID_KEY', 'a filter on namespace needs a kind', { field: 'namespace' });
    }
    return '';
  }
  const kind = checkSegment('kind', filter.kind, false);
  return filter.namespace === undefined ? `${kind}/` : `${kind}/${checkSegment('namespace', filter.namespace, true)}/`;
};
