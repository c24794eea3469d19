import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ResourceManager } from '../manager/index.js';
import { requireAdminToken } from './auth-hook.js';
import { registerBatchRoutes } from './batch-routes.js';
import { toErrorReply } from './error-reply.js';
import { registerResourceRoutes } from './resource-routes.js';
import { ManagerError } from '../manager/index.js';

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  readonly manager: ResourceManager;
  /** The admin token every `/api/v1` request but `health` must present as `Authorization: Bearer`. */
  readonly adminToken: string;
  /** A pino logger (e.g. `createLogger().child({ component: 'api' })`); none: no logs. */
  readonly logger?: FastifyBaseLogger;
  /** Largest request body in bytes (default 8 MiB); larger ones get 413 `WEFT_ERR_API_TOO_LARGE`. */
  readonly bodyLimit?: number;
  /**
   * Registers more routes on the server's root (the dashboard, later), outside the
   * authenticated `/api/v1` scope; a route that needs the admin token adds
   * `requireAdminToken(token)` as its `onRequest` hook. Errors thrown there are answered
   * by the same handler.
   */
  readonly extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

/** The default request body limit: room for a file of many resources, far below memory trouble. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

/**
 * The control plane's REST API on fastify: `/api/v1/{plural}` per kind (list, get, put,
 * delete), `/api/v1/apply` and `/api/v1/validate` for batches, and `/api/v1/health`
 * (the only route that needs no token: it says "ok" and nothing else). Errors are answered in
 * one place as `{ code, message, details? }` with the status of the code in `ERROR_CODES`.
 *
 * Returns the fastify instance, not yet listening: `await app.listen({ host, port })` to
 * serve (port 0 in tests), or `app.inject()` without a socket; `await app.close()` stops it.
 */
export const createApiServer = (options: ApiServerOptions): FastifyInstance => {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = fastify({
    bodyLimit,
    // Per-request lines go at debug (below); fastify's own are at info, too loud for an API.
    logController: new LogController({ disableRequestLogging: true }),
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorReply(err, { requestId: req.id, bodyLimit });
    if (status >= 500) req.log.error({ err, code: body.code }, 'request failed');
    else req.log.debug({ code: body.code, status }, 'request refused');
    return reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req) => {
    throw new ManagerError('WEFT_ERR_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0] ?? ''}; the API is under /api/v1`);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.get('/api/v1/health', async () => ({ status: 'ok' }));
  void app.register(
    async (api) => {
      api.addHook('onRequest', requireAdminToken(options.adminToken));
      registerBatchRoutes(api, options.manager);
      registerResourceRoutes(api, options.manager);
    },
    { prefix: '/api/v1' },
  );
  if (options.extraRoutes !== undefined) {
    const extra = options.extraRoutes;
    void app.register(async (root) => extra(root));
  }
  return app;
};
