import { RESOURCE_KIND_LIST, findResourceKind, type ResourceKind } from '@weft/api';
import { WeftError } from '@weft/core';

/** The kind a user names on the command line (kind, plural, singular or short name), or an error listing the names that exist. */
export const kindArgument = (name: string): ResourceKind => {
  const k = findResourceKind(name);
  if (k !== undefined) return k;
  const names = RESOURCE_KIND_LIST.map((x) => [x.plural, ...x.shortNames].join('/')).join(', ');
  throw new WeftError('WEFT_ERR_API_NOT_FOUND', `unknown resource type ${JSON.stringify(name)}; known: ${names}`, { kind: name });
};

/** How output names a resource: `httproute shop/reviews`, `mesh default`. */
export const resourceLabel = (kind: ResourceKind, namespace: string | undefined, name: string): string =>
  `${kind.singular} ${kind.namespaced && namespace !== undefined ? `${namespace}/` : ''}${name}`;
