import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAuthorized } from '../auth/index.js';
import { ManagerError } from '../manager/index.js';

/**
 * An `onRequest` hook that lets through only requests with `Authorization: Bearer <token>`.
 * It runs before the body is read, so a request without the token costs nothing and
 * changes nothing: it gets 401 `WEFT_ERR_API_UNAUTHORIZED` (with `WWW-Authenticate`).
 * Exported so that routes added later (the dashboard's API) can require it too.
 */
export const requireAdminToken =
  (token: string) =>
  async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isAuthorized(req.headers.authorization, token)) return;
    void reply.header('www-authenticate', 'Bearer realm="weft"');
    throw new ManagerError(
      'WEFT_ERR_API_UNAUTHORIZED',
      req.headers.authorization === undefined
        ? 'this API needs the admin token: send "Authorization: Bearer <token>"; the token is in <data-dir>/admin-token (the CLI reads it from there or from WEFT_ADMIN_TOKEN)'
        : 'the admin token is wrong: use the one in <data-dir>/admin-token of this control plane',
    );
  };
