import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { WebSocket, type RawData } from 'ws';
import { startWsEcho } from './ws-echo.js';

test('echoes text and binary messages and names itself on the upgrade', async (t) => {
  const echo = await startWsEcho({ name: 'ws-a' });
  t.after(echo.close);
  const ws = new WebSocket(`${echo.url}/chat`);
  t.after(() => ws.terminate());
  // 'open' follows 'upgrade' in the same tick, so both are listened for before either fires.
  let servedBy: string | string[] | undefined;
  ws.once('upgrade', (res) => (servedBy = res.headers['x-served-by']));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  assert.equal(servedBy, 'ws-a');

  const next = (): Promise<{ data: RawData; isBinary: boolean }> =>
    new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data, isBinary })));

  let reply = next();
  ws.send('hello');
  let m = await reply;
  assert.equal(m.isBinary, false);
  assert.equal(m.data.toString(), 'hello');

  reply = next();
  const bin = Buffer.from([0, 1, 2, 255]);
  ws.send(bin);
  m = await reply;
  assert.equal(m.isBinary, true);
  assert.deepEqual(m.data, bin);
  assert.equal(echo.connections, 1);
});

test('a plain HTTP request gets 426', async (t) => {
  const echo = await startWsEcho();
  t.after(echo.close);
  const status = await new Promise<number>((resolve, reject) => {
    request(`http://127.0.0.1:${echo.port}/`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(status, 426);
});
