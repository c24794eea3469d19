// The control plane's REST API.
export { createApiServer, DEFAULT_BODY_LIMIT, type ApiServerOptions } from './server.js';
export { requireAdminToken } from './auth-hook.js';
export { toErrorReply, type ErrorBody, type ErrorReply } from './error-reply.js';
