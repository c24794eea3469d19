import { RESOURCE_KIND_LIST, type ResourceKind } from '@weft/api';
import { z } from 'zod';
import { ManagerError } from '../manager/index.js';

/** Parameter and body schemas of the REST API, and their checks (zod, as everywhere in Weft). */

const label = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');

/** `?namespace=` of a list. */
export const ListQuerySchema = z.object({ namespace: label.optional() });

/** `?resourceVersion=` of a delete. */
export const DeleteQuerySchema = z.object({ resourceVersion: z.string().regex(/^[0-9]{1,16}$/, 'must be a resourceVersion as the API returned it (digits)').optional() });

/** The body of `POST /api/v1/apply` and `/validate`: the documents of one file, in order. */
export const BatchBodySchema = z.array(z.unknown(), { error: 'must be a JSON array of resource documents (the documents of one file)' });

/**
 * `value` parsed with `schema`, or `WEFT_ERR_API_BAD_REQUEST` (400) listing every issue
 * with its field, prefixed by `what` (`query`, `body`).
 */
export const parseOr400 = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: [what, ...i.path.map(String)].join('.'), message: i.message }));
  throw new ManagerError('WEFT_ERR_API_BAD_REQUEST', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { details: { issues } });
};

/** The kind served at `/api/v1/{plural}`, or `WEFT_ERR_API_NOT_FOUND` listing the plurals that exist. */
export const kindOfPlural = (plural: string): ResourceKind => {
  const k = RESOURCE_KIND_LIST.find((x) => x.plural === plural);
  if (k !== undefined) return k;
  const alias = RESOURCE_KIND_LIST.find((x) => x.singular === plural.toLowerCase() || x.kind.toLowerCase() === plural.toLowerCase() || x.shortNames.includes(plural));
  const hint = alias === undefined ? '' : ` (did you mean ${alias.plural}?)`;
  throw new ManagerError('WEFT_ERR_API_NOT_FOUND', `unknown resource type ${JSON.stringify(plural)}${hint}; the API serves ${RESOURCE_KIND_LIST.map((x) => x.plural).join(', ')}`);
};

/** A namespaced kind addressed without a namespace, or a cluster-scoped one with one. */
export const wrongScope = (k: ResourceKind): ManagerError =>
  new ManagerError(
    'WEFT_ERR_API_NOT_FOUND',
    k.namespaced
      ? `${k.kind} is namespaced: address one as /api/v1/${k.plural}/{namespace}/{name}`
      : `${k.kind} is cluster-scoped: address one as /api/v1/${k.plural}/{name}`,
  );
