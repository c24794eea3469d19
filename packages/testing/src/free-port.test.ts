import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from './free-port.js';
import { listenOnFreePort } from './listen.js';

test('returns a port that can be bound right away', async () => {
  const port = await freePort();
  assert.ok(port > 0 && port < 65536);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});

test('listenOnFreePort resolves the bound port', async () => {
  const server = createServer();
  const port = await listenOnFreePort(server, '127.0.0.1');
  const address = server.address();
  assert.equal(typeof address === 'object' && address !== null ? address.port : 0, port);
  await new Promise((resolve) => server.close(resolve));
});
