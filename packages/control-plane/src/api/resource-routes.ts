import type { ResourceKind } from '@weft/api';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { invalidResources, ManagerError, resourceNotFoundFor, type DocumentIssue, type ResourceManager } from '../manager/index.js';
import type { StoreKey } from '../store/index.js';
import { DeleteQuerySchema, ListQuerySchema, kindOfPlural, parseOr400, wrongScope } from './params.js';

/**
 * The per-resource routes, kubectl-shaped:
 *
 * - `GET    /api/v1/{plural}[?namespace=NS]`         list (all namespaces without `namespace`)
 * - `GET    /api/v1/{plural}/{namespace}/{name}`     one (cluster-scoped: `/api/v1/{plural}/{name}`)
 * - `PUT    /api/v1/{plural}/{namespace}/{name}`     apply one: create or update (201 / 200)
 * - `DELETE /api/v1/{plural}/{namespace}/{name}[?resourceVersion=RV]`
 */

interface PathParams {
  readonly plural: string;
  readonly a?: string;
  readonly b?: string;
}

/** The kind and key a path names; a path of the wrong shape for the kind's scope is 404. */
const keyOfPath = (p: PathParams): { kind: ResourceKind; key: StoreKey } => {
  const kind = kindOfPlural(p.plural);
  if (kind.namespaced && p.a !== undefined && p.b !== undefined) return { kind, key: { kind: kind.kind, namespace: p.a, name: p.b } };
  if (!kind.namespaced && p.a !== undefined && p.b === undefined) return { kind, key: { kind: kind.kind, namespace: '', name: p.a } };
  throw wrongScope(kind);
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The document a PUT applies: the body, with `metadata.name` (and `namespace`) taken from
 * the path when the body leaves them out; a body that names another kind, name or
 * namespace than the path is refused (400) rather than applied somewhere else.
 */
const documentForPath = (body: unknown, kind: ResourceKind, key: StoreKey): unknown => {
  if (!isObject(body)) throw new ManagerError('WEFT_ERR_API_BAD_REQUEST', 'the body must be a JSON object: one resource document');
  const issues: DocumentIssue[] = [];
  const issue = (path: string[], message: string): void => {
    issues.push({ document: 0, field: path.join('.'), path, message });
  };
  if (body['kind'] !== undefined && body['kind'] !== kind.kind) issue(['kind'], `must be ${kind.kind} at /api/v1/${kind.plural}/...`);
  const meta = body['metadata'] ?? {};
  if (!isObject(meta)) return body;
  if (meta['name'] !== undefined && meta['name'] !== key.name) issue(['metadata', 'name'], `is ${JSON.stringify(meta['name'])} but the path names ${JSON.stringify(key.name)}`);
  if (kind.namespaced && meta['namespace'] !== undefined && meta['namespace'] !== key.namespace) {
    issue(['metadata', 'namespace'], `is ${JSON.stringify(meta['namespace'])} but the path names ${JSON.stringify(key.namespace)}`);
  }
  if (issues.length > 0) throw invalidResources(issues);
  return { ...body, metadata: { ...meta, name: key.name, ...(kind.namespaced ? { namespace: key.namespace } : {}) } };
};

const get = async (manager: ResourceManager, p: PathParams): Promise<unknown> => {
  const { key } = keyOfPath(p);
  const r = await manager.get(key);
  if (r === undefined) throw resourceNotFoundFor(key);
  return r;
};

const put = async (manager: ResourceManager, p: PathParams, body: unknown, reply: FastifyReply): Promise<unknown> => {
  const { kind, key } = keyOfPath(p);
  const outcome = await manager.apply(documentForPath(body, kind, key));
  reply.code(outcome.result === 'created' ? 201 : 200);
  return outcome;
};

const del = async (manager: ResourceManager, p: PathParams, query: unknown): Promise<unknown> => {
  const { key } = keyOfPath(p);
  const q = parseOr400(DeleteQuerySchema, query, 'query');
  const resource = await manager.delete(key, q.resourceVersion === undefined ? {} : { resourceVersion: q.resourceVersion });
  return { result: 'deleted', resource };
};

/** Registers the per-resource routes on `app` (inside the authenticated `/api/v1` scope). */
export const registerResourceRoutes = (app: FastifyInstance, manager: ResourceManager): void => {
  app.get<{ Params: PathParams }>('/:plural', async (req) => {
    const kind = kindOfPlural(req.params.plural);
    const q = parseOr400(ListQuerySchema, req.query, 'query');
    const { items, revision } = await manager.list(kind.kind, kind.namespaced ? q.namespace : undefined);
    return { apiVersion: kind.apiVersion, kind: `${kind.kind}List`, metadata: { resourceVersion: String(revision) }, items };
  });
  for (const path of ['/:plural/:a', '/:plural/:a/:b']) {
    app.get<{ Params: PathParams }>(path, async (req) => get(manager, req.params));
    app.put<{ Params: PathParams }>(path, async (req, reply) => put(manager, req.params, req.body, reply));
    app.delete<{ Params: PathParams }>(path, async (req) => del(manager, req.params, req.query));
  }
};
