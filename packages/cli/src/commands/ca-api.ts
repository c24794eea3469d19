import { WeftError } from '@weft/core';
import type { ApiConfig } from '../client/api-config.js';
import { apiErrorOf } from '../client/api-error.js';

/**
 * The CA and join-token routes of the REST API, for `weft token` and `weft ca`: the
 * answers' shapes as the control plane writes them (`packages/control-plane/src/api/ca-routes.ts`).
 */

/** `POST /api/v1/tokens`. */
export interface CreatedToken {
  readonly token: string;
  readonly id: string;
  readonly expiresAt: string;
  readonly service: string;
  readonly namespace: string;
  readonly singleUse: boolean;
}

/** One item of `GET /api/v1/tokens`. */
export interface TokenItem {
  readonly id: string;
  readonly service: string;
  readonly namespace: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly singleUse: boolean;
  readonly state: 'active' | 'expired' | 'revoked' | 'used';
  readonly usedAt?: string;
  readonly revokedAt?: string;
}

/** `GET /api/v1/ca`. */
export interface CaView {
  readonly mode: 'self-managed' | 'plug-in';
  readonly trustDomain: string;
  readonly caHash: string;
  readonly caHashes: readonly string[];
  readonly trustBundle: readonly string[];
  readonly rotation: {
    readonly phase: 'idle' | 'introduced' | 'activated';
    readonly roots: readonly { readonly caHash: string; readonly subject: string; readonly notAfter: string; readonly signing: boolean; readonly trusted: boolean }[];
  };
  readonly expiries: readonly { readonly role: 'root' | 'intermediate'; readonly subject: string; readonly caHash: string; readonly notAfter: string; readonly daysLeft: number; readonly signing: boolean }[];
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One request with the admin token; an error answer becomes the API's error, an unreachable API `WEFT_ERR_API_UNREACHABLE`. */
export const caApiRequest = async (config: ApiConfig, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> => {
  let res: Response;
  try {
    res = await fetch(`${config.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new WeftError(
      'WEFT_ERR_API_UNREACHABLE',
      `cannot reach the control plane at ${config.baseUrl}: ${why} — is \`weft control-plane\` running? (set --api or WEFT_API to its address)`,
      { api: config.baseUrl },
      { cause: err },
    );
  }
  const text = await res.text();
  if (!res.ok) throw apiErrorOf(res.status, text);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new WeftError('WEFT_ERR_API_INTERNAL', `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
  }
};
