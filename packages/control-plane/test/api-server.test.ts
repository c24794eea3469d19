import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { createApiServer, type ApiServerOptions } from '../src/api/index.js';
import type { Store } from '../src/store/index.js';
import { FaultyStore, mesh, newManager, route, service, storeContents } from './manager-fixtures.js';

const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuv';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Api {
  readonly app: FastifyInstance;
  readonly store: Store;
  /** Base URL once `listen()` was called. */
  readonly listen: () => Promise<string>;
}

const startApi = (t: TestContext, options: Partial<ApiServerOptions> & { store?: Store } = {}): Api => {
  const { manager, store } = newManager(options.store === undefined ? {} : { store: options.store });
  const app = createApiServer({ manager, adminToken: TOKEN, ...options });
  t.after(() => app.close());
  return {
    app,
    store,
    listen: async () => {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address();
      assert.ok(addr !== null && typeof addr === 'object');
      return `http://127.0.0.1:${addr.port}`;
    },
  };
};

interface Answer {
  readonly status: number;
  readonly body: { code?: string; message?: string; details?: { issues?: { document?: number; field: string; message: string }[] }; [k: string]: unknown };
  readonly headers: Headers;
}

const call = async (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Answer> => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'], headers: res.headers };
};

/** Seeds a few resources so that "nothing changed" has something to lose. */
const seed = async (api: Api): Promise<void> => {
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/apply', headers: AUTH, payload: [service('reviews'), service('ratings', { namespace: 'shop' }), route('reviews', 'reviews', ['reviews']), mesh()] });
  assert.equal(res.statusCode, 200, res.body);
};

/** A logger that records every line (with its bindings) as JSON text. */
const recordingLogger = (lines: string[], bindings: Record<string, unknown> = {}): FastifyBaseLogger => {
  const at =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push(JSON.stringify({ level, ...bindings, args }, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v)));
    };
  return {
    level: 'debug',
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    silent: () => undefined,
    child: (more: Record<string, unknown>) => recordingLogger(lines, { ...bindings, ...more }),
  };
};

describe('REST API', () => {
  test('health answers without a token, and says nothing else', async (t) => {
    const api = startApi(t);
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/health' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  test('without or with a wrong token every route answers 401 and changes nothing', async (t) => {
    const api = startApi(t);
    await seed(api);
    const before = await storeContents(api.store);
    const requests = [
      { method: 'GET', url: '/api/v1/services' },
      { method: 'GET', url: '/api/v1/services/default/reviews' },
      { method: 'PUT', url: '/api/v1/services/default/reviews', payload: service('reviews', { port: 1 }) },
      { method: 'DELETE', url: '/api/v1/services/default/reviews' },
      { method: 'POST', url: '/api/v1/apply', payload: [service('evil')] },
      { method: 'POST', url: '/api/v1/validate', payload: [service('evil')] },
      { method: 'PUT', url: '/api/v1/meshes/default', payload: mesh('PERMISSIVE') },
    ] as const;
    const badHeaders: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
    ];
    for (const r of requests) {
      for (const headers of badHeaders) {
        const res = await api.app.inject({ ...r, headers });
        assert.equal(res.statusCode, 401, `${r.method} ${r.url} with ${JSON.stringify(headers)}`);
        assert.equal(res.json<{ code: string }>().code, 'WEFT_ERR_API_UNAUTHORIZED');
        assert.equal(res.headers['www-authenticate'], 'Bearer realm="weft"');
      }
    }
    assert.deepEqual(await storeContents(api.store), before);
  });

  test('over a real socket: put creates (201), get, list, put again (unchanged), delete', async (t) => {
    const base = await startApi(t).listen();
    const created = await call(base, 'PUT', '/api/v1/services/shop/reviews', service('reviews', { namespace: 'shop' }));
    assert.equal(created.status, 201);
    assert.equal(created.body['result'], 'created');
    const got = await call(base, 'GET', '/api/v1/services/shop/reviews');
    assert.equal(got.status, 200);
    assert.equal((got.body['metadata'] as { uid?: string }).uid, 'uid-1');
    const list = await call(base, 'GET', '/api/v1/services?namespace=shop');
    assert.equal(list.body['kind'], 'ServiceList');
    assert.equal((list.body['items'] as unknown[]).length, 1);
    assert.equal((await call(base, 'GET', '/api/v1/services?namespace=other')).body['items'] instanceof Array, true);
    const again = await call(base, 'PUT', '/api/v1/services/shop/reviews', { ...service('reviews'), metadata: {} });
    assert.deepEqual([again.status, again.body['result']], [200, 'unchanged'], 'name and namespace come from the path when the body omits them');
    const deleted = await call(base, 'DELETE', '/api/v1/services/shop/reviews');
    assert.deepEqual([deleted.status, deleted.body['result']], [200, 'deleted']);
    const gone = await call(base, 'GET', '/api/v1/services/shop/reviews');
    assert.deepEqual([gone.status, gone.body.code], [404, 'WEFT_ERR_API_NOT_FOUND']);
  });

  test('cluster-scoped kinds have no namespace in their path; the wrong shape is 404 with the right one', async (t) => {
    const api = startApi(t);
    const put = await api.app.inject({ method: 'PUT', url: '/api/v1/meshes/default', headers: AUTH, payload: mesh() });
    assert.equal(put.statusCode, 201);
    assert.equal((await api.app.inject({ method: 'GET', url: '/api/v1/meshes/default', headers: AUTH })).statusCode, 200);
    const wrong = await api.app.inject({ method: 'GET', url: '/api/v1/meshes/default/default', headers: AUTH });
    assert.equal(wrong.statusCode, 404);
    assert.match(wrong.json<{ message: string }>().message, /cluster-scoped: address one as \/api\/v1\/meshes\/\{name\}/);
    const ns = await api.app.inject({ method: 'GET', url: '/api/v1/services/reviews', headers: AUTH });
    assert.match(ns.json<{ message: string }>().message, /namespaced: address one as \/api\/v1\/services\/\{namespace\}\/\{name\}/);
  });

  test('a batch answers per document; invalid documents are 400 with every issue by document and field, nothing applied', async (t) => {
    const api = startApi(t);
    const ok = await api.app.inject({ method: 'POST', url: '/api/v1/apply', headers: AUTH, payload: [service('a'), route('r', 'a', ['a'])] });
    assert.deepEqual(ok.json<{ results: { result: string }[] }>().results.map((r) => r.result), ['created', 'created']);
    const before = await storeContents(api.store);
    const bad = await api.app.inject({
      method: 'POST',
      url: '/api/v1/apply',
      headers: AUTH,
      payload: [service('b'), { apiVersion: 'weft.dev/v1alpha1', kind: 'Servce', metadata: { name: 'x' } }, { ...route('r2', 'a', ['a']), spec: { parentRefs: [{ group: '', kind: 'Service', name: 'a' }], colour: 'red' } }],
    });
    assert.equal(bad.statusCode, 400);
    const body = bad.json<Answer['body']>();
    assert.equal(body.code, 'WEFT_ERR_API_INVALID_RESOURCE');
    assert.deepEqual(body.details?.issues?.map((i) => [i.document, i.field]), [[1, 'kind'], [2, 'spec.colour']]);
    assert.match(body.details?.issues?.[0]?.message ?? '', /unknown kind "Servce"\. Known kinds: Mesh, Service/);
    assert.deepEqual(await storeContents(api.store), before);
  });

  test('validate is a dry run: it reports what apply would do and writes nothing', async (t) => {
    const api = startApi(t);
    await seed(api);
    const before = await storeContents(api.store);
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/validate', headers: AUTH, payload: [service('reviews'), service('new')] });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ dryRun: boolean; results: { result: string }[] }>();
    assert.equal(body.dryRun, true);
    assert.deepEqual(body.results.map((r) => r.result), ['unchanged', 'created']);
    assert.deepEqual(await storeContents(api.store), before);
  });

  test('bad requests get a clear 4xx answer and change nothing that was stored', async (t) => {
    const api = startApi(t, { bodyLimit: 1024 * 1024 });
    const base = await api.listen();
    await seed(api);
    const before = await storeContents(api.store);
    const huge = { ...service('huge'), metadata: { name: 'huge', annotations: { blob: 'x'.repeat(600 * 1024) } } };
    const cases: { name: string; method: string; path: string; body?: unknown; headers?: Record<string, string>; status: number; code: string; match?: RegExp }[] = [
      { name: 'garbage JSON', method: 'PUT', path: '/api/v1/services/default/reviews', body: '{"apiVersion": weft', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST', match: /not valid JSON/ },
      { name: 'garbage JSON batch', method: 'POST', path: '/api/v1/apply', body: '[{]', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST' },
      { name: 'a batch that is not an array', method: 'POST', path: '/api/v1/apply', body: service('x'), status: 400, code: 'WEFT_ERR_API_BAD_REQUEST', match: /body: must be a JSON array/ },
      { name: 'a body that is not an object', method: 'PUT', path: '/api/v1/services/default/reviews', body: '"hello"', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST' },
      { name: 'proto pollution', method: 'POST', path: '/api/v1/apply', body: '[{"__proto__": {"admin": true}}]', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST' },
      { name: 'YAML sent as such', method: 'PUT', path: '/api/v1/services/default/reviews', body: 'kind: Service', headers: { ...AUTH, 'content-type': 'application/yaml' }, status: 415, code: 'WEFT_ERR_API_UNSUPPORTED_MEDIA_TYPE' },
      { name: 'unknown kind in the body', method: 'PUT', path: '/api/v1/services/default/reviews', body: { ...service('reviews'), kind: 'Gadget' }, status: 400, code: 'WEFT_ERR_API_INVALID_RESOURCE', match: /kind: must be Service/ },
      { name: 'unknown field', method: 'PUT', path: '/api/v1/services/default/reviews', body: { ...service('reviews'), spec: { ports: [{ port: 1 }], weight: 3 } }, status: 400, code: 'WEFT_ERR_API_INVALID_RESOURCE', match: /spec\.weight: Unrecognized key/ },
      { name: 'a name that is not the path\'s', method: 'PUT', path: '/api/v1/services/default/reviews', body: service('ratings'), status: 400, code: 'WEFT_ERR_API_INVALID_RESOURCE', match: /metadata\.name: is "ratings" but the path names "reviews"/ },
      { name: 'a namespace that is not the path\'s', method: 'PUT', path: '/api/v1/services/default/reviews', body: service('reviews', { namespace: 'shop' }), status: 400, code: 'WEFT_ERR_API_INVALID_RESOURCE' },
      { name: 'unknown resource type', method: 'GET', path: '/api/v1/gadgets', status: 404, code: 'WEFT_ERR_API_NOT_FOUND', match: /unknown resource type "gadgets"/ },
      { name: 'a singular in the path', method: 'GET', path: '/api/v1/service', status: 404, code: 'WEFT_ERR_API_NOT_FOUND', match: /did you mean services\?/ },
      { name: 'unknown path', method: 'GET', path: '/api/v2/services', status: 404, code: 'WEFT_ERR_API_NOT_FOUND' },
      { name: 'a bad namespace filter', method: 'GET', path: '/api/v1/services?namespace=Not%20OK', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST', match: /query\.namespace/ },
      { name: 'a malformed resourceVersion', method: 'DELETE', path: '/api/v1/services/default/reviews?resourceVersion=abc', status: 400, code: 'WEFT_ERR_API_BAD_REQUEST' },
      { name: 'a stale resourceVersion on delete', method: 'DELETE', path: '/api/v1/services/default/reviews?resourceVersion=1000', status: 409, code: 'WEFT_ERR_STORE_CONFLICT' },
      { name: 'a stale resourceVersion on put', method: 'PUT', path: '/api/v1/services/default/reviews', body: service('reviews', { port: 5, resourceVersion: '1000' }), status: 409, code: 'WEFT_ERR_STORE_CONFLICT' },
      { name: 'deleting what does not exist', method: 'DELETE', path: '/api/v1/services/default/nothing', status: 404, code: 'WEFT_ERR_API_NOT_FOUND' },
      { name: 'a huge document', method: 'PUT', path: '/api/v1/services/default/huge', body: huge, status: 413, code: 'WEFT_ERR_API_TOO_LARGE', match: /document 0 is \d+ bytes/ },
      { name: 'a huge document in a batch', method: 'POST', path: '/api/v1/apply', body: [service('fine'), huge], status: 413, code: 'WEFT_ERR_API_TOO_LARGE' },
      { name: 'a body over the limit', method: 'POST', path: '/api/v1/apply', body: [service('a'), { ...huge, metadata: { name: 'huge', annotations: { blob: 'x'.repeat(1100 * 1024) } } }], status: 413, code: 'WEFT_ERR_API_TOO_LARGE', match: /larger than 1048576 bytes/ },
    ];
    for (const c of cases) {
      const res = await call(base, c.method, c.path, c.body, c.headers ?? AUTH);
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, c.code, c.name);
      assert.equal(typeof res.body.message, 'string', c.name);
      if (c.match !== undefined) assert.match(res.body.message ?? '', c.match, c.name);
      assert.deepEqual(await storeContents(api.store), before, `${c.name}: nothing changed`);
    }
  });

  test('two concurrent updates of one resource from the same resourceVersion: one 200, one 409', async (t) => {
    const base = await startApi(t).listen();
    const created = await call(base, 'PUT', '/api/v1/services/default/reviews', service('reviews'));
    const rv = (created.body['resource'] as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    for (let round = 0; round < 10; round++) {
      const current = await call(base, 'GET', '/api/v1/services/default/reviews');
      const v = round === 0 ? rv : (current.body['metadata'] as { resourceVersion: string }).resourceVersion;
      const answers = await Promise.all([1, 2].map((i) => call(base, 'PUT', '/api/v1/services/default/reviews', service('reviews', { port: 1000 * round + i, resourceVersion: v }))));
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 409], `round ${round}`);
      assert.equal(answers.find((a) => a.status === 409)?.body.code, 'WEFT_ERR_STORE_CONFLICT');
    }
  });

  test('an unexpected failure is a 500 that names the request, not the internals', async (t) => {
    const store = new FaultyStore();
    store.failWhen((op) => op === 'list', () => new Error('secret internal detail'));
    const api = startApi(t, { store });
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/services', headers: AUTH });
    assert.equal(res.statusCode, 500);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, 'WEFT_ERR_API_INTERNAL');
    assert.doesNotMatch(body.message, /secret/);
    assert.match(body.message, /request req-/);
  });

  test('store errors keep their code and status (a closed store is 503)', async (t) => {
    const api = startApi(t);
    await api.store.close();
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/services', headers: AUTH });
    assert.deepEqual([res.statusCode, res.json<{ code: string }>().code], [503, 'WEFT_ERR_STORE_CLOSED']);
  });

  test('extra routes (the dashboard, later) live beside the API, with the same error answers', async (t) => {
    const api = startApi(t, {
      extraRoutes: (app) => {
        app.get('/dashboard', async () => ({ page: 'dashboard' }));
        app.get('/dashboard/fail', async () => {
          throw new Error('boom');
        });
      },
    });
    assert.deepEqual((await api.app.inject({ method: 'GET', url: '/dashboard' })).json(), { page: 'dashboard' });
    const fail = await api.app.inject({ method: 'GET', url: '/dashboard/fail' });
    assert.deepEqual([fail.statusCode, fail.json<{ code: string }>().code], [500, 'WEFT_ERR_API_INTERNAL']);
  });

  test('logs: refusals at debug, failures at error with the request id; never the token', async (t) => {
    const lines: string[] = [];
    const store = new FaultyStore();
    store.failWhen((op) => op === 'list', () => new Error('disk on fire'));
    const api = startApi(t, { store, logger: recordingLogger(lines) });
    await api.app.inject({ method: 'GET', url: '/api/v1/services', headers: { authorization: 'Bearer some-wrong-token-value' } });
    await api.app.inject({ method: 'GET', url: '/api/v1/services', headers: AUTH });
    const refused = lines.find((l) => l.includes('request refused'));
    assert.ok(refused?.includes('"level":"debug"') && refused.includes('WEFT_ERR_API_UNAUTHORIZED'), refused);
    const failed = lines.find((l) => l.includes('request failed'));
    assert.ok(failed?.includes('"level":"error"') && failed.includes('disk on fire') && failed.includes('"reqId"'), failed);
    assert.ok(!lines.some((l) => l.includes(TOKEN) || l.includes('some-wrong-token-value')), 'no token in any log line');
  });
});
