import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { readJoinToken } from '@weft/api';
import { createTmpDir } from '@weft/testing';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { silentLogger } from '../../test/fixtures/store-helpers.js';
import { CertificateAuthority, JoinTokens } from '../ca/index.js';
import { ResourceManager } from '../manager/index.js';
import { MemoryStore } from '../store/index.js';
import { registerCaRoutes } from './ca-routes.js';
import { createApiServer } from './server.js';

const ADMIN = 'admin-token-for-tests-0123456789';
const TD = 'example.org';

interface Api {
  readonly app: FastifyInstance;
  readonly ca: CertificateAuthority;
  readonly tokens: JoinTokens;
  call(method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, body?: unknown, token?: string | null): Promise<LightMyRequestResponse>;
}

const start = async (t: { after: (fn: () => Promise<void>) => void }): Promise<Api> => {
  const dir = await createTmpDir({ prefix: 'ca-api', t });
  const store = new MemoryStore({ logger: silentLogger });
  const ca = await CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });
  const tokens = await JoinTokens.open({ dataDir: dir.path, store, ca });
  const app = createApiServer({ manager: new ResourceManager({ store }), adminToken: ADMIN, extraRoutes: (root) => registerCaRoutes(root, { ca, tokens, adminToken: ADMIN }) });
  t.after(() => app.close());
  return {
    app,
    ca,
    tokens,
    call: (method, url, body, token = ADMIN) =>
      app.inject({
        method,
        url,
        headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      }),
  };
};

const json = (r: LightMyRequestResponse): Record<string, unknown> => r.json<Record<string, unknown>>();

const assertError = (r: LightMyRequestResponse, status: number, code: string, message?: RegExp): Record<string, unknown> => {
  assert.equal(r.statusCode, status, r.body);
  const body = json(r);
  assert.equal(body['code'], code, r.body);
  assert.equal(typeof body['message'], 'string');
  if (message !== undefined) assert.match(String(body['message']), message);
  return body;
};

describe('REST: /api/v1/tokens and /api/v1/ca', () => {
  test('every route needs the admin token', async (t) => {
    const api = await start(t);
    const routes: [Parameters<Api['call']>[0], string, unknown?][] = [
      ['POST', '/api/v1/tokens', { service: 'reviews' }],
      ['GET', '/api/v1/tokens'],
      ['DELETE', '/api/v1/tokens/0123456789abcdef'],
      ['GET', '/api/v1/ca'],
      ['POST', '/api/v1/ca/rotation', { step: 'introduce' }],
    ];
    for (const [method, url, body] of routes) {
      assertError(await api.call(method, url, body, null), 401, 'WEFT_ERR_API_UNAUTHORIZED');
      assertError(await api.call(method, url, body, 'wrong-token-wrong-token-wrong'), 401, 'WEFT_ERR_API_UNAUTHORIZED');
    }
    assert.equal((await api.tokens.list()).length, 0, 'nothing was created');
    assert.equal(api.ca.rotationState().phase, 'idle', 'nothing was rotated');
  });

  test('POST /api/v1/tokens makes a token (defaults: namespace default, ttl 1h, reusable) shown only in this answer', async (t) => {
    const api = await start(t);
    const before = Date.now();
    const r = await api.call('POST', '/api/v1/tokens', { service: 'reviews' });
    assert.equal(r.statusCode, 201, r.body);
    const body = json(r);
    const parsed = readJoinToken(String(body['token']));
    assert.ok(parsed.ok);
    assert.equal(body['id'], parsed.token.payload.id);
    assert.equal(parsed.token.payload.svc, 'reviews');
    assert.equal(parsed.token.payload.ns, 'default');
    assert.equal(parsed.token.payload.once, undefined);
    assert.equal(parsed.token.payload.ca, api.ca.pinnedCaHash);
    const ttl = Date.parse(String(body['expiresAt'])) - before;
    assert.ok(ttl > 3590_000 && ttl <= 3600_000, String(ttl));
    await api.tokens.verify(String(body['token']), { service: 'reviews', namespace: 'default' });

    const once = json(await api.call('POST', '/api/v1/tokens', { service: 'ratings', namespace: 'shop', ttl: '30m', singleUse: true }));
    const p2 = readJoinToken(String(once['token']));
    assert.ok(p2.ok && p2.token.payload.once === true && p2.token.payload.ns === 'shop');
    assert.ok(Math.abs(Date.parse(String(once['expiresAt'])) - Date.now() - 1800_000) < 10_000);

    const list = await api.call('GET', '/api/v1/tokens');
    assert.equal(list.statusCode, 200);
    const items = json(list)['items'] as Record<string, unknown>[];
    assert.deepEqual(
      items.map((i) => [i['id'], i['service'], i['namespace'], i['singleUse'], i['state']]).sort(),
      [
        [body['id'], 'reviews', 'default', false, 'active'],
        [once['id'], 'ratings', 'shop', true, 'active'],
      ].sort(),
    );
    assert.ok(!list.body.includes('weft1.'), 'the list never carries a token');
  });

  test('bad bodies are 400 with every issue named', async (t) => {
    const api = await start(t);
    const cases: [unknown, RegExp][] = [
      [{}, /body\.service/],
      [{ service: 'Reviews' }, /body\.service: must be an RFC 1123 label/],
      [{ service: 'reviews', namespace: 'a.b' }, /body\.namespace/],
      [{ service: 'reviews', ttl: '1d' }, /body\.ttl: must be a duration/],
      [{ service: 'reviews', ttl: '30s' }, /body\.ttl: must be at least 1m/],
      [{ service: 'reviews', ttl: '2161h' }, /body\.ttl: must be at most 2160h/],
      [{ service: 'reviews', singleUse: 'yes' }, /body\.singleUse/],
      [{ service: 'reviews', extra: true }, /extra/],
      [[], /body/],
    ];
    for (const [body, message] of cases) {
      const e = assertError(await api.call('POST', '/api/v1/tokens', body), 400, 'WEFT_ERR_API_BAD_REQUEST', message);
      assert.ok(Array.isArray((e['details'] as { issues?: unknown })?.issues), JSON.stringify(e));
    }
    const noBody = await api.call('POST', '/api/v1/tokens');
    assertError(noBody, 400, 'WEFT_ERR_API_BAD_REQUEST');
    assert.equal((await api.tokens.list()).length, 0);
  });

  test('DELETE /api/v1/tokens/:id revokes; an unknown id is 404', async (t) => {
    const api = await start(t);
    const created = json(await api.call('POST', '/api/v1/tokens', { service: 'reviews' }));
    const r = await api.call('DELETE', `/api/v1/tokens/${String(created['id'])}`);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(json(r)['result'], 'revoked');
    assert.equal((json(r)['token'] as Record<string, unknown>)['state'], 'revoked');
    await assert.rejects(api.tokens.verify(String(created['token']), { service: 'reviews', namespace: 'default' }), (err: Error & { code?: string }) => err.code === 'WEFT_ERR_TOKEN_REVOKED');
    assertError(await api.call('DELETE', '/api/v1/tokens/0123456789abcdef'), 404, 'WEFT_ERR_TOKEN_NOT_FOUND');
    assertError(await api.call('DELETE', '/api/v1/tokens/not-an-id'), 404, 'WEFT_ERR_TOKEN_NOT_FOUND');
  });

  test('GET /api/v1/ca: bundle, hash, rotation state, expiries; never a key', async (t) => {
    const api = await start(t);
    const r = await api.call('GET', '/api/v1/ca');
    assert.equal(r.statusCode, 200);
    const body = json(r);
    assert.equal(body['mode'], 'self-managed');
    assert.equal(body['trustDomain'], TD);
    assert.equal(body['caHash'], api.ca.caHash);
    assert.deepEqual(body['trustBundle'], api.ca.trustBundle);
    assert.equal(new X509Certificate(String((body['trustBundle'] as string[])[0])).subject, `CN=Weft Root CA ${TD}`);
    const rotation = body['rotation'] as { phase: string; roots: Record<string, unknown>[] };
    assert.equal(rotation.phase, 'idle');
    assert.deepEqual(
      rotation.roots.map((x) => [x['caHash'], x['signing'], x['trusted']]),
      [[api.ca.caHash, true, true]],
    );
    const [expiry] = body['expiries'] as Record<string, unknown>[];
    assert.equal(expiry?.['role'], 'root');
    assert.ok(Number(expiry?.['daysLeft']) > 3600);
    assert.ok(!Number.isNaN(Date.parse(String(expiry?.['notAfter']))));
    assert.doesNotMatch(r.body, /PRIVATE KEY/);
  });

  test('POST /api/v1/ca/rotation runs the steps in order; out of order is 409; a bad step 400', async (t) => {
    const api = await start(t);
    assertError(await api.call('POST', '/api/v1/ca/rotation', { step: 'activate' }), 409, 'WEFT_ERR_CA_ROTATION_ORDER');
    assertError(await api.call('POST', '/api/v1/ca/rotation', { step: 'explode' }), 400, 'WEFT_ERR_API_BAD_REQUEST', /introduce", "activate" or "retire/);
    assertError(await api.call('POST', '/api/v1/ca/rotation', {}), 400, 'WEFT_ERR_API_BAD_REQUEST');
    const phases: string[] = [];
    for (const step of ['introduce', 'introduce', 'activate', 'retire']) {
      const r = await api.call('POST', '/api/v1/ca/rotation', { step });
      assert.equal(r.statusCode, 200, r.body);
      const body = json(r);
      assert.equal(body['step'], step);
      phases.push((body['rotation'] as { phase: string }).phase);
      if (step === 'activate') assert.equal((body['trustBundle'] as string[]).length, 2);
    }
    assert.deepEqual(phases, ['introduced', 'introduced', 'activated', 'idle']);
    assert.equal(api.ca.trustBundle.length, 1);
  });

  test('the resource routes still answer beside these', async (t) => {
    const api = await start(t);
    const r = await api.call('GET', '/api/v1/services');
    assert.equal(r.statusCode, 200, r.body);
    assertError(await api.call('PUT', '/api/v1/tokens/x', {}), 404, 'WEFT_ERR_API_NOT_FOUND');
  });
});
