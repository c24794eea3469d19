/**
 * A WebSocket through the calling proxy is a request for its whole life: it holds a unit of
 * its Service's `connectionPool.maxRequests` while the tunnel is open, a second one past the
 * limit is refused with 503 UO, and closing the first gives the unit back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { createTmpDir, startWsEcho } from '@weft/testing';
import { eventually, snapshot, startProxy, suiteContext, upstreamPortOf } from './http1-mesh-fixture.js';

/** Opens a WebSocket: the socket once open, or the status and x-weft-error of a refused upgrade. */
const open = (url: string): Promise<{ ws: WebSocket } | { refused: number; error: string }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0, error: String(res.headers['x-weft-error'] ?? '') });
      ws.terminate();
    });
    ws.once('error', reject);
  });

describe('WebSocket and the breaker (HTTP/1.1 upgrade)', () => {
  const ctx = suiteContext();
  let url = '';

  before(async () => {
    const echo = await startWsEcho({ name: 'ws-app' });
    ctx.after(echo.close);
    const dir = await createTmpDir({ prefix: 'destination-ws', t: ctx as { after: (fn: () => Promise<void>) => void } });
    const config = {
      ...snapshot({ services: [{ name: 'ws', ports: [{ port: 9080, protocol: 'http' }] }], endpoints: { 'ws.default': [{ address: '127.0.0.1', port: echo.port }] } }),
      destinations: { 'ws.default': { connectionPool: { maxRequests: 1, maxPendingRequests: 1024, maxConnections: 1024, maxRetries: 3 } } },
    };
    const proxy = await startProxy(ctx, dir, config, ['--service', 'client', '--upstream', 'ws:0']);
    url = `ws://127.0.0.1:${upstreamPortOf(proxy, 'ws')}/`;
  });
  after(() => ctx.cleanup());

  test('an open WebSocket holds its unit; a second one is refused with UO until the first closes', async () => {
    const first = await open(url);
    assert.ok('ws' in first, `the first WebSocket opens: ${JSON.stringify(first)}`);
    const second = await open(url);
    assert.ok('refused' in second, 'the second is refused while the first is open');
    assert.equal(second.refused, 503);
    assert.match(second.error, /^WEFT_ERR_PROXY_OVERFLOW \(UO\) .*maxRequests/);
    const closed = new Promise((resolve) => first.ws.once('close', resolve));
    first.ws.close();
    await closed;
    let third: Awaited<ReturnType<typeof open>> | undefined;
    await eventually('a WebSocket opens once the first closed', async () => {
      third = await open(url);
      return 'ws' in third;
    });
    if (third !== undefined && 'ws' in third) third.ws.terminate();
  });
});
