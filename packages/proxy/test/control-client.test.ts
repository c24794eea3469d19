/**
 * The config stream client against a fake control plane: hello, ACK, NACK (schema and load
 * failures), reconnect with jittered backoff while the control plane is down, `lastVersion`
 * on reconnect, and what it does with an `error` message or garbage from the control plane.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Hello, ProxySnapshot } from '@weft/api';
import { createLogger } from '@weft/core';
import { freePort } from '@weft/testing';
import { ConfigStreamClient, type ApplyResult } from '../src/control/index.js';
import { fakeSnapshot, startFakeControlPlane } from './control-fake-cp.js';

const logger = createLogger({ level: 'silent' });

const eventually = async (check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** A client whose applies are recorded and answered by `answer`. */
const newClient = (port: number, answer: (s: ProxySnapshot) => ApplyResult = () => ({ ok: true }), backoff = { baseMs: 20, maxMs: 160 }) => {
  const applied: string[] = [];
  let version: string | undefined;
  const hello = (): Hello => ({
    type: 'hello',
    workload: 'web-1',
    service: 'web',
    namespace: 'default',
    address: '127.0.0.1',
    port: 9000,
    appProtocol: 'http',
    labels: {},
    upstreams: [],
    allServices: false,
    proxyVersion: 'test',
    ...(version === undefined ? {} : { lastVersion: version }),
  });
  const client = new ConfigStreamClient({
    address: `127.0.0.1:${port}`,
    hello,
    logger,
    backoff,
    connectTimeoutMs: 1000,
    apply: async (v, s) => {
      const r = answer(s);
      if (r.ok) {
        applied.push(v);
        version = v;
      }
      return r;
    },
  });
  return { client, applied };
};

test('hello, snapshot, ACK; a snapshot it cannot load is NACKed with the reason', async (t) => {
  const cp = await startFakeControlPlane();
  t.after(() => cp.close());
  const { client, applied } = newClient(cp.port, (s) => (s.routesVersion === 'bad' ? { ok: false, error: 'transport.tls.certFile: cannot read /nope' } : { ok: true }));
  t.after(() => client.close());
  cp.onHello = (s) => s.send({ type: 'snapshot', version: 'r1/e', snapshot: fakeSnapshot('r1') });
  client.start();
  const { message: hello } = await cp.waitFor((m) => m['type'] === 'hello');
  assert.equal(hello['workload'], 'web-1');
  assert.equal(hello['lastVersion'], undefined);
  const { stream } = await cp.waitFor((m) => m['type'] === 'ack' && m['version'] === 'r1/e');
  assert.deepEqual(applied, ['r1/e']);
  assert.equal(client.status.connected, true);

  stream.send({ type: 'snapshot', version: 'bad/e', snapshot: fakeSnapshot('bad') });
  const { message: nack } = await cp.waitFor((m) => m['type'] === 'nack');
  assert.deepEqual(nack, { type: 'nack', version: 'bad/e', error: 'transport.tls.certFile: cannot read /nope' });
  // Schema-invalid: NACKed without ever reaching apply.
  stream.send({ type: 'snapshot', version: 'worse/e', snapshot: { ...fakeSnapshot('worse'), limits: { headersTimeoutMs: -1 } } });
  const { message: nack2 } = await cp.waitFor((m) => m['type'] === 'nack' && m['version'] === 'worse/e');
  assert.match(String(nack2['error']), /invalid snapshot: snapshot\.limits\.headersTimeoutMs/);
  assert.deepEqual(applied, ['r1/e']);
  assert.equal(client.status.lastNack?.version, 'worse/e');
  assert.equal(client.status.lastAckedVersion, 'r1/e');
});

test('snapshots that arrive while one is loading are coalesced: only the newest is loaded next', async (t) => {
  const cp = await startFakeControlPlane();
  t.after(() => cp.close());
  const versions: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const client = new ConfigStreamClient({
    address: `127.0.0.1:${cp.port}`,
    hello: () => ({ type: 'hello', workload: 'w', service: 's', namespace: 'default', address: '127.0.0.1', port: 1, appProtocol: 'http', labels: {}, upstreams: [], allServices: false, proxyVersion: 't' }),
    logger,
    apply: async (v) => {
      versions.push(v);
      if (v === 'a/e') await gate;
      return { ok: true };
    },
  });
  t.after(() => client.close());
  cp.onHello = (s) => {
    for (const r of ['a', 'b', 'c', 'd']) s.send({ type: 'snapshot', version: `${r}/e`, snapshot: fakeSnapshot(r) });
  };
  client.start();
  await eventually(() => versions.length === 1);
  await new Promise((r) => setTimeout(r, 100));
  release();
  await cp.waitFor((m) => m['type'] === 'ack' && m['version'] === 'd/e');
  assert.deepEqual(versions, ['a/e', 'd/e']);
});

test('reconnects with growing jittered delays while the control plane is down, then re-syncs with lastVersion', async (t) => {
  const port = await freePort();
  const { client, applied } = newClient(port);
  t.after(() => client.close());
  const attemptsAt: number[] = [];
  let last = 0;
  const started = Date.now();
  client.start();
  // Nobody listens: each attempt is refused at once, so failures count the attempts.
  await eventually(() => {
    if (client.status.failures !== last) {
      last = client.status.failures;
      attemptsAt.push(Date.now() - started);
    }
    return client.status.failures >= 6;
  }, 10_000, 'six failed attempts');
  assert.equal(client.status.connected, false);
  assert.equal(client.status.lastError?.code, 'WEFT_ERR_STREAM_UNREACHABLE');
  // With caps 20, 40, 80, 160, 160 ms and full jitter, six attempts take at most ~460 ms (plus connect time).
  assert.ok((attemptsAt.at(-1) ?? 0) < 3000, `attempts at ${attemptsAt.join(', ')} ms`);

  const cp = await startFakeControlPlane(port);
  t.after(() => cp.close());
  cp.onHello = (s, hello) => {
    if (hello['lastVersion'] !== 'r1/e') s.send({ type: 'snapshot', version: 'r1/e', snapshot: fakeSnapshot('r1') });
  };
  await cp.waitFor((m) => m['type'] === 'ack');
  await eventually(() => client.status.connected && client.status.failures === 0, 5000, 'connected, backoff reset');

  // The control plane goes away and comes back: the next hello says what runs.
  await cp.close();
  await eventually(() => !client.status.connected, 5000, 'disconnected');
  const again = await startFakeControlPlane(port);
  t.after(() => again.close());
  const { message } = await again.waitFor((m) => m['type'] === 'hello');
  assert.equal(message['lastVersion'], 'r1/e');
  await eventually(() => client.status.connected);
  assert.deepEqual(applied, ['r1/e'], 'nothing applied again');
});

test('an error message, or garbage, from the control plane: the client drops the stream and reconnects', async (t) => {
  const cp = await startFakeControlPlane();
  t.after(() => cp.close());
  const { client } = newClient(cp.port);
  t.after(() => client.close());
  let hellos = 0;
  cp.onHello = (s) => {
    hellos++;
    if (hellos === 1) {
      s.send({ type: 'error', code: 'WEFT_ERR_STREAM_REPLACED', message: 'a newer stream registered workload default/web-1' });
      s.stream.end();
    } else if (hellos === 2) s.send('this is not json\n');
    else if (hellos === 3) s.send({ type: 'surprise' });
    else s.send({ type: 'snapshot', version: 'r/e', snapshot: fakeSnapshot('r') });
  };
  client.start();
  await cp.waitFor((m) => m['type'] === 'ack', 10_000);
  assert.equal(hellos, 4);
  assert.equal(cp.streams.length, 4);
  assert.equal(client.status.connected, true);
  assert.equal(client.status.lastError?.code, 'WEFT_ERR_STREAM_BAD_MESSAGE');
});
