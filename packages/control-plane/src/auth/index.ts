// The admin token of the REST API.
export { ADMIN_TOKEN_FILE, bearerToken, isAuthorized, loadOrCreateAdminToken, tokensEqual, type AdminToken } from './admin-token.js';
