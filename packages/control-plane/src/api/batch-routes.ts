import type { FastifyInstance } from 'fastify';
import type { ResourceManager } from '../manager/index.js';
import { BatchBodySchema, parseOr400 } from './params.js';

/**
 * - `POST /api/v1/apply`: the documents of one file (a JSON array), applied all or nothing;
 *   the answer lists, per document in order, `created`, `configured` or `unchanged` and the
 *   stored resource.
 * - `POST /api/v1/validate`: the same checks (schema, limits, preconditions against the
 *   store) as a dry run: it says what apply would do and writes nothing.
 */
export const registerBatchRoutes = (app: FastifyInstance, manager: ResourceManager): void => {
  app.post('/apply', async (req) => {
    const docs = parseOr400(BatchBodySchema, req.body, 'body');
    return { dryRun: false, results: await manager.applyBatch(docs) };
  });
  app.post('/validate', async (req) => {
    const docs = parseOr400(BatchBodySchema, req.body, 'body');
    return { dryRun: true, results: await manager.applyBatch(docs, { dryRun: true }) };
  });
};
