import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test, type TestContext } from 'node:test';
import { createLogger } from '@weft/core';
import { MetricsRegistry } from '../telemetry/registry.js';
import { startAdminServer, type AdminConfigView, type AdminState } from './admin-server.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One real HTTP request to the admin server, bounded in time. */
const call = (port: number, method: string, path: string): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });

/** A state the test flips by hand. */
class FakeState implements AdminState {
  live = true;
  ready = false;
  current: AdminConfigView | undefined;
  isLive(): boolean {
    return this.live;
  }
  isReady(): boolean {
    return this.ready;
  }
  config(): AdminConfigView | undefined {
    return this.current;
  }
}

const start = async (t: TestContext) => {
  const registry = new MetricsRegistry();
  const logger = createLogger({ level: 'info', name: 'admin-test' });
  const state = new FakeState();
  const server = await startAdminServer({ host: '127.0.0.1', port: 0, registry, logger, state });
  t.after(() => server.close());
  return { registry, logger, state, port: server.port };
};

test('/live and /ready follow the state, with a reason when not ready', async (t) => {
  const { state, port } = await start(t);
  assert.deepEqual(await call(port, 'GET', '/live').then((r) => [r.status, r.body]), [200, 'ok\n']);
  assert.deepEqual(await call(port, 'GET', '/ready').then((r) => [r.status, r.body]), [503, 'not ready: no configuration yet\n']);
  state.ready = true;
  assert.deepEqual(await call(port, 'GET', '/ready').then((r) => [r.status, r.body]), [200, 'ready\n']);
  state.live = false;
  state.ready = false;
  assert.equal((await call(port, 'GET', '/live')).status, 503);
  assert.equal((await call(port, 'GET', '/ready')).body, 'not ready: not live\n');
});

test('/ready uses the state\'s own reason when it has one', async (t) => {
  const registry = new MetricsRegistry();
  const state: AdminState = {
    isLive: () => true,
    isReady: () => false,
    config: () => undefined,
    notReadyReason: () => 'inbound listener not bound',
  };
  const server = await startAdminServer({ port: 0, registry, logger: createLogger({ level: 'silent' }), state });
  t.after(() => server.close());
  assert.equal((await call(server.port, 'GET', '/ready')).body, 'not ready: inbound listener not bound\n');
});

test('/config is 503 before any config, then the JSON view', async (t) => {
  const { state, port } = await start(t);
  const before = await call(port, 'GET', '/config');
  assert.equal(before.status, 503);
  assert.equal(JSON.parse(before.body).error, 'no_config');
  state.current = {
    version: 'r1/e1',
    routesVersion: 'r1',
    endpointsVersion: 'e1',
    snapshot: { services: [] },
    lastRejection: { at: '2025-01-01T00:00:00.000Z', message: 'bad port', version: 'r2/e1' },
  };
  const after = await call(port, 'GET', '/config');
  assert.equal(after.status, 200);
  assert.match(String(after.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(after.body), state.current);
});

test('/metrics renders the registry as Prometheus text 0.0.4', async (t) => {
  const { registry, port } = await start(t);
  registry.counter('x_total', 'x', ['a']).labels({ a: 'b' }).inc(3);
  const r = await call(port, 'GET', '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(r.body, '# HELP x_total x\n# TYPE x_total counter\nx_total{a="b"} 3\n');
  const head = await call(port, 'HEAD', '/metrics');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('/log-level reads and changes the logger level at runtime', async (t) => {
  const { logger, port } = await start(t);
  assert.deepEqual(JSON.parse((await call(port, 'GET', '/log-level')).body), { level: 'info' });
  const child = logger.child({ component: 'x' });
  const put = await call(port, 'PUT', '/log-level?level=error');
  assert.equal(put.status, 200);
  assert.deepEqual(JSON.parse(put.body), { level: 'error', previous: 'info' });
  assert.equal(logger.level, 'error');
  assert.equal(child.level, 'error', 'children without their own level follow');
  assert.deepEqual(JSON.parse((await call(port, 'GET', '/log-level')).body), { level: 'error' });
  const bad = await call(port, 'PUT', '/log-level?level=loud');
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /debug/);
  assert.equal((await call(port, 'PUT', '/log-level')).status, 400);
  assert.equal(logger.level, 'error');
});

test('unknown paths are 404 and wrong methods 405, as JSON', async (t) => {
  const { port } = await start(t);
  const missing = await call(port, 'GET', '/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(JSON.parse(missing.body), { error: 'not_found', message: 'no admin endpoint at /nope' });
  const wrong = await call(port, 'POST', '/metrics');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers['allow'], 'GET, HEAD');
  assert.equal(JSON.parse(wrong.body).error, 'method_not_allowed');
  assert.equal((await call(port, 'DELETE', '/log-level')).headers['allow'], 'GET, HEAD, PUT');
});

test('a failing handler answers 500 and the server keeps serving', async (t) => {
  const { registry, port } = await start(t);
  registry.gauge('broken', 'broken', [], () => {
    throw new Error('collector failed');
  });
  const r = await call(port, 'GET', '/metrics');
  assert.equal(r.status, 500);
  assert.equal(JSON.parse(r.body).message, 'collector failed');
  assert.equal((await call(port, 'GET', '/live')).status, 200);
});

test('close() stops listening, and is idempotent', async () => {
  const server = await startAdminServer({
    port: 0,
    registry: new MetricsRegistry(),
    logger: createLogger({ level: 'silent' }),
    state: new FakeState(),
  });
  assert.equal((await call(server.port, 'GET', '/live')).status, 200);
  await Promise.all([server.close(), server.close()]);
  await assert.rejects(call(server.port, 'GET', '/live'), /ECONNREFUSED/);
});
