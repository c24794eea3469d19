import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { assembleJoinToken, JOIN_TOKEN_ID_PATTERN, joinTokenSigningInput, readJoinToken, type ErrorCode } from '@weft/api';
import { WeftError } from '@weft/core';
import { z } from 'zod';
import { StoreError, type JsonObject, type Store, type StoreKey, type StoredItem } from '../store/index.js';
import { loadOrCreateTokenSecret } from './token-secret.js';

/**
 * Join tokens on the control plane: made by `weft token create`, presented once by a proxy
 * to obtain its first certificate. The token itself (format in `@weft/api`'s join-token)
 * is never stored: the store keeps a record per token (service, namespace, expiry,
 * single-use, revoked, used) under the key `JoinToken//<id>`, and the token's HMAC, made
 * with the secret in `<dataDir>/ca/token-secret`, proves the control plane made it.
 *
 * A token is reusable until it expires (replicas of one service share one), unless made
 * single-use: then the first successful join marks it used, atomically, so that of two
 * joins racing with it exactly one passes.
 */

/** The store kind of token records: not a resource kind, so the REST resource routes never serve them. */
export const JOIN_TOKEN_STORE_KIND = 'JoinToken';

/** Token lifetimes allowed. */
export const MIN_TOKEN_TTL_MS = 60_000;
export const MAX_TOKEN_TTL_MS = 2160 * 3600 * 1000;

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CONSUME_ATTEMPTS = 16;

const RecordSchema = z.strictObject({
  id: z.string().regex(JOIN_TOKEN_ID_PATTERN),
  service: z.string(),
  namespace: z.string(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  singleUse: z.boolean(),
  revoked: z.boolean(),
  used: z.boolean(),
  revokedAt: z.iso.datetime().optional(),
  usedAt: z.iso.datetime().optional(),
});
type TokenRecord = z.infer<typeof RecordSchema>;

/** What is known of a token: everything but the token itself, which is shown once, at creation. */
export interface JoinTokenInfo extends TokenRecord {
  /** `active`, or why it no longer admits anyone. */
  readonly state: 'active' | 'expired' | 'revoked' | 'used';
}

/** A token just made: the only time the token string exists outside the proxy's file. */
export interface CreatedJoinToken {
  readonly token: string;
  readonly id: string;
  readonly expiresAt: Date;
  readonly info: JoinTokenInfo;
}

/** What a proxy claims to be when it presents a token. */
export interface JoinClaim {
  readonly service: string;
  readonly namespace: string;
}

/** Options of {@link JoinTokens}. */
export interface JoinTokensOptions {
  readonly store: Store;
  /** The HMAC key (32 bytes); see {@link loadOrCreateTokenSecret}. */
  readonly secret: Buffer;
  /** The CA whose root a new token pins (its `pinnedCaHash`, read at each creation). */
  readonly ca: { readonly pinnedCaHash: string };
  readonly clock?: () => Date;
}

const tokenError = (code: ErrorCode, message: string, id?: string): WeftError => new WeftError(code, message, id === undefined ? {} : { tokenId: id });

const keyOf = (id: string): StoreKey => ({ kind: JOIN_TOKEN_STORE_KIND, namespace: '', name: id });

const isConflict = (err: unknown): boolean => err instanceof StoreError && err.code === 'WEFT_ERR_STORE_CONFLICT';

/**
 * Waits before re-reading a record after a conditional write lost: the winner's write may
 * not be readable until it is durable (a file store reads what is fsynced), so re-reading
 * at once could lose again and again. 2, 4, 8 ... ms, at most 200 ms a wait.
 */
const backoff = (attempt: number): Promise<void> => new Promise((r) => setTimeout(r, Math.min(200, 2 ** (attempt + 1))));

/** Join tokens over the control plane's store. */
export class JoinTokens {
  readonly #store: Store;
  readonly #secret: Buffer;
  readonly #ca: { readonly pinnedCaHash: string };
  readonly #clock: () => Date;

  constructor(options: JoinTokensOptions) {
    if (options.secret.length < 32) throw new Error('a join token secret has at least 32 bytes');
    this.#store = options.store;
    this.#secret = options.secret;
    this.#ca = options.ca;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Join tokens with the secret of `<dataDir>/ca/token-secret` (created on first use). */
  static async open(options: Omit<JoinTokensOptions, 'secret'> & { readonly dataDir: string }): Promise<JoinTokens> {
    return new JoinTokens({ ...options, secret: await loadOrCreateTokenSecret(options.dataDir) });
  }

  /**
   * Makes a token for `service` in `namespace` (default `default`), valid for `ttlMs`
   * (1 minute to 90 days), reusable until then unless `singleUse`. Stores its record and
   * returns the token: it is shown this once and never stored.
   */
  async create(req: { readonly service: string; readonly namespace?: string; readonly ttlMs: number; readonly singleUse?: boolean }): Promise<CreatedJoinToken> {
    const namespace = req.namespace ?? 'default';
    for (const [field, v] of [['service', req.service], ['namespace', namespace]] as const) {
      if (!LABEL.test(v)) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${field} ${JSON.stringify(v)} must be an RFC 1123 label: lowercase letters, digits and "-", at most 63`, { field });
    }
    if (!Number.isSafeInteger(req.ttlMs) || req.ttlMs < MIN_TOKEN_TTL_MS || req.ttlMs > MAX_TOKEN_TTL_MS) {
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', `a join token lives from 1m to 2160h (90 days), not ${req.ttlMs} ms`, { field: 'ttl' });
    }
    const now = this.#clock();
    const exp = Math.floor((now.getTime() + req.ttlMs) / 1000);
    const singleUse = req.singleUse === true;
    for (;;) {
      const id = randomBytes(8).toString('hex');
      const record: TokenRecord = {
        id,
        service: req.service,
        namespace,
        createdAt: now.toISOString(),
        expiresAt: new Date(exp * 1000).toISOString(),
        singleUse,
        revoked: false,
        used: false,
      };
      try {
        await this.#store.create(keyOf(id), { ...record });
      } catch (err) {
        // 64 random bits collide practically never; if they do, draw again.
        if (err instanceof StoreError && err.code === 'WEFT_ERR_STORE_ALREADY_EXISTS') continue;
        throw err;
      }
      const signingInput = joinTokenSigningInput({ id, ns: namespace, svc: req.service, exp, ca: this.#ca.pinnedCaHash, ...(singleUse ? { once: true as const } : {}) });
      return { token: assembleJoinToken(signingInput, this.#mac(signingInput)), id, expiresAt: new Date(exp * 1000), info: this.#info(record) };
    }
  }

  /**
   * Checks a token presented by a proxy that claims to be `claim.service` in
   * `claim.namespace`: its shape and signature (`WEFT_ERR_TOKEN_INVALID`, compared in
   * constant time), its expiry (`_EXPIRED`), its record (`_INVALID` when unknown,
   * `_REVOKED`, `_USED` for a single-use token already used), and that it admits that
   * service and namespace (`_SCOPE`, 403). Marks nothing: see {@link redeem}.
   */
  async verify(token: string, claim: JoinClaim): Promise<JoinTokenInfo> {
    const parsed = readJoinToken(token);
    if (!parsed.ok) throw tokenError('WEFT_ERR_TOKEN_INVALID', `the join token is not valid: ${parsed.reason}`);
    const { payload, signingInput, mac } = parsed.token;
    if (!timingSafeEqual(this.#mac(signingInput), mac)) {
      throw tokenError('WEFT_ERR_TOKEN_INVALID', 'the join token is not valid: its signature does not match (it was altered, or made by another control plane)');
    }
    if (this.#clock().getTime() >= payload.exp * 1000) {
      throw tokenError('WEFT_ERR_TOKEN_EXPIRED', `join token ${payload.id} expired at ${new Date(payload.exp * 1000).toISOString()}; create a new one with weft token create`, payload.id);
    }
    const item = await this.#store.get(keyOf(payload.id));
    const record = item === undefined ? undefined : this.#record(item);
    if (record === undefined) throw tokenError('WEFT_ERR_TOKEN_INVALID', `join token ${payload.id} is not known to this control plane (was its store reset?); create a new one`, payload.id);
    if (record.service !== payload.svc || record.namespace !== payload.ns || Date.parse(record.expiresAt) !== payload.exp * 1000 || record.singleUse !== (payload.once === true)) {
      throw tokenError('WEFT_ERR_TOKEN_INVALID', `join token ${payload.id} does not match what this control plane recorded for it`, payload.id);
    }
    this.#checkUsable(record);
    if (payload.svc !== claim.service || payload.ns !== claim.namespace) {
      throw tokenError(
        'WEFT_ERR_TOKEN_SCOPE',
        `join token ${payload.id} admits service ${payload.svc} in namespace ${payload.ns}, not ${claim.service} in namespace ${claim.namespace}`,
        payload.id,
      );
    }
    return this.#info(record);
  }

  /** {@link verify}, then {@link consume} for a single-use token: what a join does. */
  async redeem(token: string, claim: JoinClaim): Promise<JoinTokenInfo> {
    const info = await this.verify(token, claim);
    return info.singleUse ? this.consume(info.id) : info;
  }

  /**
   * Marks a single-use token used (a reusable one is left as it is). The write is
   * conditional on the revision just read, so of two uses racing exactly one passes and
   * the other gets `WEFT_ERR_TOKEN_USED`; a token revoked or expired meanwhile is refused
   * with its own code.
   */
  async consume(id: string): Promise<JoinTokenInfo> {
    for (let attempt = 0; attempt < CONSUME_ATTEMPTS; attempt++) {
      const { item, record } = await this.#get(id);
      this.#checkUsable(record);
      if (this.#clock().getTime() >= Date.parse(record.expiresAt)) throw tokenError('WEFT_ERR_TOKEN_EXPIRED', `join token ${id} expired at ${record.expiresAt}`, id);
      if (!record.singleUse) return this.#info(record);
      const used: TokenRecord = { ...record, used: true, usedAt: this.#clock().toISOString() };
      try {
        await this.#store.update(keyOf(id), { ...used }, item.modRevision);
        return this.#info(used);
      } catch (err) {
        if (!isConflict(err)) throw err;
        await backoff(attempt);
      }
    }
    throw tokenError('WEFT_ERR_STORE_CONFLICT', `join token ${id} kept changing while it was being used; try again`, id);
  }

  /** Revokes a token: it admits nobody from now on. Revoking it again changes nothing. `WEFT_ERR_TOKEN_NOT_FOUND` for an unknown id. */
  async revoke(id: string): Promise<JoinTokenInfo> {
    for (let attempt = 0; attempt < CONSUME_ATTEMPTS; attempt++) {
      const { item, record } = await this.#get(id);
      if (record.revoked) return this.#info(record);
      const revoked: TokenRecord = { ...record, revoked: true, revokedAt: this.#clock().toISOString() };
      try {
        await this.#store.update(keyOf(id), { ...revoked }, item.modRevision);
        return this.#info(revoked);
      } catch (err) {
        if (!isConflict(err)) throw err;
        await backoff(attempt);
      }
    }
    throw tokenError('WEFT_ERR_STORE_CONFLICT', `join token ${id} kept changing while it was being revoked; try again`, id);
  }

  /** One token's record, or `WEFT_ERR_TOKEN_NOT_FOUND`. */
  async get(id: string): Promise<JoinTokenInfo> {
    return this.#info((await this.#get(id)).record);
  }

  /** Every token's record (never the token itself), oldest first. */
  async list(): Promise<JoinTokenInfo[]> {
    const { items } = await this.#store.list({ kind: JOIN_TOKEN_STORE_KIND });
    return items
      .map((i) => this.#record(i))
      .filter((r): r is TokenRecord => r !== undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map((r) => this.#info(r));
  }

  /** Deletes the records of tokens expired for longer than `graceMs` (they can admit nobody); returns how many. */
  async pruneExpired(graceMs = 7 * 24 * 3600 * 1000): Promise<number> {
    const before = this.#clock().getTime() - graceMs;
    let n = 0;
    for (const item of (await this.#store.list({ kind: JOIN_TOKEN_STORE_KIND })).items) {
      const r = this.#record(item);
      if (r === undefined || Date.parse(r.expiresAt) > before) continue;
      try {
        await this.#store.delete(item.key, item.modRevision);
        n++;
      } catch (err) {
        if (!isConflict(err) && !(err instanceof StoreError && err.code === 'WEFT_ERR_STORE_NOT_FOUND')) throw err;
      }
    }
    return n;
  }

  #mac(signingInput: string): Buffer {
    return createHmac('sha256', this.#secret).update(signingInput, 'utf8').digest();
  }

  #checkUsable(record: TokenRecord): void {
    if (record.revoked) throw tokenError('WEFT_ERR_TOKEN_REVOKED', `join token ${record.id} was revoked${record.revokedAt === undefined ? '' : ` at ${record.revokedAt}`}`, record.id);
    if (record.singleUse && record.used) throw tokenError('WEFT_ERR_TOKEN_USED', `join token ${record.id} is single-use and was used${record.usedAt === undefined ? '' : ` at ${record.usedAt}`}`, record.id);
  }

  async #get(id: string): Promise<{ item: StoredItem; record: TokenRecord }> {
    const notFound = (): WeftError => tokenError('WEFT_ERR_TOKEN_NOT_FOUND', `no join token ${JSON.stringify(id.slice(0, 100))}; weft token list shows them`);
    if (!JOIN_TOKEN_ID_PATTERN.test(id)) throw notFound();
    const item = await this.#store.get(keyOf(id));
    const record = item === undefined ? undefined : this.#record(item);
    if (item === undefined || record === undefined) throw notFound();
    return { item, record };
  }

  #record(item: StoredItem): TokenRecord | undefined {
    const r = RecordSchema.safeParse(item.value satisfies JsonObject);
    return r.success && r.data.id === item.key.name ? r.data : undefined;
  }

  #info(r: TokenRecord): JoinTokenInfo {
    const state = r.revoked ? 'revoked' : r.singleUse && r.used ? 'used' : this.#clock().getTime() >= Date.parse(r.expiresAt) ? 'expired' : 'active';
    return { ...r, state };
  }
}
