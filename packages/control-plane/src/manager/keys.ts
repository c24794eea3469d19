import { RESOURCE_KIND_LIST, type AnyResource, type ResourceKind } from '@weft/api';
import type { StoreKey } from '../store/index.js';

/**
 * Store keys of resources: `{kind, namespace, name}` with the kind's CamelCase name
 * (`HTTPRoute`) and `''` as the namespace of cluster-scoped kinds (`Mesh`).
 */

/** The store key of a validated resource. */
export const keyOf = (r: AnyResource): StoreKey => ({
  kind: r.kind,
  namespace: 'namespace' in r.metadata ? r.metadata.namespace : '',
  name: r.metadata.name,
});

/** `HTTPRoute default/reviews`, or `Mesh default` for cluster-scoped kinds: how messages name a resource. */
export const describeKey = (k: StoreKey): string => `${k.kind} ${k.namespace === '' ? '' : `${k.namespace}/`}${k.name}`;

/** `kind/namespace/name`, for sets and maps of keys. */
export const keyString = (k: StoreKey): string => `${k.kind}/${k.namespace}/${k.name}`;

/** The registered kind named `kind` exactly (CamelCase), or undefined. */
export const kindNamed = (kind: string): ResourceKind | undefined => RESOURCE_KIND_LIST.find((k) => k.kind === kind);
