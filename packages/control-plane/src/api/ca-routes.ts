import { durationSchema, parseDuration } from '@weft/api';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CertificateAuthority, JoinTokens } from '../ca/index.js';
import { requireAdminToken } from './auth-hook.js';
import { parseOr400 } from './params.js';

/** What {@link registerCaRoutes} serves. */
export interface CaRoutesOptions {
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  /** The admin token every one of these routes requires. */
  readonly adminToken: string;
  /** Resolves once a CA change has been compiled and pushed to the proxies (the answer waits for it). */
  readonly afterChange?: () => Promise<void>;
}

const label = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be an RFC 1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit');

/** The default lifetime of a join token. */
export const DEFAULT_TOKEN_TTL = '1h';

/** `POST /api/v1/tokens`. */
export const CreateTokenBodySchema = z.strictObject({
  service: label,
  namespace: label.default('default'),
  ttl: durationSchema({ min: '1m', max: '2160h' }).default(DEFAULT_TOKEN_TTL),
  singleUse: z.boolean().default(false),
});

/** `POST /api/v1/ca/rotation`. */
export const RotationBodySchema = z.strictObject({
  step: z.enum(['introduce', 'activate', 'retire'], { error: 'must be "introduce", "activate" or "retire"' }),
});

const bodyObject = (body: unknown): unknown => body ?? {};

/**
 * The certificate authority and join tokens on the REST API, every route behind the admin
 * token (`Authorization: Bearer`), errors answered by the server's one handler:
 *
 * - `POST   /api/v1/tokens` `{service, namespace?, ttl? ("1h"), singleUse?}` -> 201 `{token, id, expiresAt, ...}`:
 *   the token is in this answer only, never stored or listed;
 * - `GET    /api/v1/tokens` -> `{items}`: every token's id and record;
 * - `DELETE /api/v1/tokens/:id` -> `{result: "revoked", token}`;
 * - `GET    /api/v1/ca` -> trust bundle (PEMs), CA hash, rotation state, expiries;
 * - `POST   /api/v1/ca/rotation` `{step: "introduce"|"activate"|"retire"}` -> the new rotation state.
 *
 * Register it from `createApiServer({ extraRoutes: (root) => registerCaRoutes(root, {...}) })`.
 * Static paths take precedence over the resource routes' `/api/v1/:plural`.
 */
export const registerCaRoutes = (root: FastifyInstance, options: CaRoutesOptions): void => {
  const { ca, tokens } = options;
  const onRequest = requireAdminToken(options.adminToken);

  root.post('/api/v1/tokens', { onRequest }, async (req, reply) => {
    const body = parseOr400(CreateTokenBodySchema, bodyObject(req.body), 'body');
    const created = await tokens.create({ service: body.service, namespace: body.namespace, ttlMs: parseDuration(body.ttl), singleUse: body.singleUse });
    reply.code(201);
    return {
      token: created.token,
      id: created.id,
      expiresAt: created.expiresAt.toISOString(),
      service: created.info.service,
      namespace: created.info.namespace,
      singleUse: created.info.singleUse,
      caHash: ca.pinnedCaHash,
    };
  });

  root.get('/api/v1/tokens', { onRequest }, async () => ({ items: await tokens.list() }));

  root.delete<{ Params: { id: string } }>('/api/v1/tokens/:id', { onRequest }, async (req) => ({ result: 'revoked', token: await tokens.revoke(req.params.id) }));

  root.get('/api/v1/ca', { onRequest }, async () => caView(ca));

  root.post('/api/v1/ca/rotation', { onRequest }, async (req) => {
    const { step } = parseOr400(RotationBodySchema, bodyObject(req.body), 'body');
    await ca.rotate(step);
    await options.afterChange?.();
    return { step, ...caView(ca) };
  });
};

/** What `GET /api/v1/ca` answers. */
const caView = (ca: CertificateAuthority): Record<string, unknown> => ({
  mode: ca.mode,
  trustDomain: ca.trustDomain,
  caHash: ca.caHash,
  caHashes: ca.caHashes,
  trustBundle: ca.trustBundle,
  rotation: ca.rotationState(),
  expiries: ca.expiries(),
});
