/**
 * The config stream refuses garbage: each bad stream gets one `error` message with a stable
 * code and is closed, the refusal is logged, and nothing else changes: another proxy stays
 * connected and keeps getting pushes, and nothing is stored.
 */
import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { ProxySnapshotSchema, WEFT_API_VERSION } from '@weft/api';
import { StreamServer, type ControlPlane } from '../src/index.js';
import { eventually, helloFor, openStream, quiet, recordingLogger, startTestControlPlane, type RawStream, type Received } from './stream-fixture.js';

const MAX = 64 * 1024;

/** Waits for the stream's `error` message and its end; returns the message. */
const refusal = async (s: RawStream): Promise<Extract<Received, { type: 'error' }>> => {
  const m = await s.waitFor((x) => x.type === 'error');
  await s.ended;
  assert.equal(m.type, 'error');
  return m as Extract<Received, { type: 'error' }>;
};

describe('config stream: bad input', () => {
  const suite: (() => Promise<unknown> | void)[] = [];
  const t = { after: (fn: () => Promise<unknown> | void) => void suite.push(fn) };
  let cp: ControlPlane;
  let logs: () => Record<string, unknown>[];
  let good: RawStream;
  let revision: number;

  before(async () => {
    ({ cp, logs } = await startTestControlPlane(t, { stream: { helloTimeoutMs: 300, maxMessageBytes: MAX } }));
    // A well-behaved proxy of `web` that calls `api`: it must stay untouched by everything below.
    good = openStream(t, cp.streamPort, { autoAck: true });
    good.send(helloFor('web-1', 'web', { upstreams: ['api'] }));
    await good.waitFor((m) => m.type === 'snapshot');
    await eventually(() => cp.proxies().some((p) => p.workload === 'web-1' && p.inSync), 5000, 'web-1 in sync');
    await cp.settled();
    revision = await cp.store.revision();
  });
  after(async () => {
    for (const fn of suite.reverse()) await fn();
  });

  const cases: { name: string; send: (s: RawStream) => void; code: string; says: RegExp }[] = [
    { name: 'a line that is not JSON', send: (s) => s.send('{"type":"hello",\n'), code: 'WEFT_ERR_STREAM_BAD_MESSAGE', says: /not JSON/ },
    { name: 'a JSON value that is not an object', send: (s) => s.send('[1,2,3]\n'), code: 'WEFT_ERR_STREAM_BAD_MESSAGE', says: /JSON object/ },
    { name: 'an unknown message type', send: (s) => s.send({ type: 'subscribe', to: 'everything' }), code: 'WEFT_ERR_STREAM_BAD_MESSAGE', says: /unknown message type "subscribe"/ },
    {
      name: 'a hello that fails its schema',
      send: (s) => s.send({ ...helloFor('x', 'x'), port: 70000, address: 'not-an-ip', extra: true }),
      code: 'WEFT_ERR_STREAM_BAD_MESSAGE',
      says: /invalid hello: .*address.*port|invalid hello: .*port/,
    },
    {
      name: 'a hello whose names cannot be registered',
      send: (s) => s.send(helloFor('Not_A_Label', 'web')),
      code: 'WEFT_ERR_STREAM_BAD_MESSAGE',
      says: /workload: must be an RFC 1123 label/,
    },
    { name: 'an oversized line', send: (s) => s.send('x'.repeat(MAX + 10)), code: 'WEFT_ERR_STREAM_TOO_LARGE', says: /longer than 65536 bytes/ },
    { name: 'an oversized line split over many writes', send: (s) => { for (let i = 0; i < 20; i++) s.send('y'.repeat(8 * 1024)); }, code: 'WEFT_ERR_STREAM_TOO_LARGE', says: /longer than/ },
    { name: 'no hello in time', send: () => undefined, code: 'WEFT_ERR_STREAM_HELLO_TIMEOUT', says: /no hello within 300 ms/ },
    { name: 'an ack before hello', send: (s) => s.send({ type: 'ack', version: 'a/b' }), code: 'WEFT_ERR_STREAM_UNEXPECTED_MESSAGE', says: /before hello/ },
  ];

  for (const c of cases) {
    test(`${c.name}: error ${c.code}, stream closed, nothing else changes`, async () => {
      const pushesBefore = cp.proxies().find((p) => p.workload === 'web-1')?.pushes;
      const bad = openStream(t, cp.streamPort);
      c.send(bad);
      const m = await refusal(bad);
      assert.equal(m.code, c.code);
      assert.match(m.message, c.says);
      assert.ok(logs().some((l) => l['code'] === c.code && String(l['msg']).startsWith('config stream closed')), 'the refusal is logged');
      await cp.settled();
      assert.equal(await cp.store.revision(), revision, 'nothing was stored');
      assert.equal(good.isEnded, false, 'the good proxy is still connected');
      assert.deepEqual(cp.proxies().map((p) => p.workload), ['web-1']);
      assert.equal(cp.proxies()[0]?.pushes, pushesBefore);
    });
  }

  test('after hello: an ack of a version never sent, or a second hello, closes that stream only', async () => {
    for (const second of [{ type: 'ack', version: 'never/sent' }, helloFor('odd-1', 'odd')]) {
      const s = openStream(t, cp.streamPort, { autoAck: true });
      s.send(helloFor('odd-1', 'odd'));
      await s.waitFor((m) => m.type === 'snapshot');
      s.send(second);
      const m = await refusal(s);
      assert.equal(m.code, 'WEFT_ERR_STREAM_UNEXPECTED_MESSAGE');
      assert.equal(good.isEnded, false);
    }
    await cp.settled();
  });

  test('garbage that is not HTTP/2, HTTP/1.1, and a wrong path: the server stays up', async () => {
    await new Promise<void>((resolve) => {
      const sock = connectTcp(cp.streamPort, '127.0.0.1', () => sock.end('\x16\x03\x01 garbage \r\n\r\n'.repeat(100)));
      sock.resume();
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
    });
    await new Promise<void>((resolve) => {
      const sock = connectTcp(cp.streamPort, '127.0.0.1', () => sock.write(`GET / HTTP/1.1\r\nhost: x\r\n\r\n`));
      sock.on('data', () => undefined);
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
    });
    const status = await new Promise<number>((resolve, reject) => {
      const session = connect(`http://127.0.0.1:${cp.streamPort}`);
      session.on('error', reject);
      const req = session.request({ ':method': 'GET', ':path': '/nope' });
      req.on('response', (h) => {
        resolve(Number(h[':status']));
        session.destroy();
      });
      req.end();
    });
    assert.equal(status, 404);
    // Still serving: a new proxy connects and gets its snapshot, and the good one is untouched.
    const s = openStream(t, cp.streamPort, { autoAck: true });
    s.send(helloFor('late-1', 'late'));
    await s.waitFor((m) => m.type === 'snapshot');
    s.close();
    assert.equal(good.isEnded, false);
  });

  test('the good proxy still gets pushes after all that', async () => {
    const before = good.snapshots().length;
    await cp.manager.apply({ apiVersion: WEFT_API_VERSION, kind: 'Service', metadata: { name: 'api' }, spec: { ports: [{ port: 8080 }] } });
    await good.waitFor(() => good.snapshots().length > before);
    const last = good.snapshots().at(-1);
    assert.ok(last?.snapshot.services.some((s) => s.name === 'api'));
  });

  test('a certificate report after a renewal keeps the stream open and shows in the sync state of the proxy', async () => {
    const certificate = { spiffeId: 'spiffe://cluster.local/ns/default/sa/web', signerHash: `sha256:${'a'.repeat(64)}`, notBefore: '2026-11-22T00:00:00.000Z', notAfter: '2026-11-23T00:00:00.000Z' };
    good.send({ type: 'certificate', certificate });
    await eventually(() => cp.proxies().find((p) => p.workload === 'web-1')?.certificate?.signerHash === certificate.signerHash, 5000, 'the report is recorded');
    await quiet(50);
    assert.equal(good.isEnded, false, 'the stream stays open');
  });

  test('a newer hello for the same workload replaces the older stream', async () => {
    const first = openStream(t, cp.streamPort, { autoAck: true });
    first.send(helloFor('dup-1', 'dup'));
    await first.waitFor((m) => m.type === 'snapshot');
    const second = openStream(t, cp.streamPort, { autoAck: true });
    second.send(helloFor('dup-1', 'dup'));
    await second.waitFor((m) => m.type === 'snapshot');
    const m = await refusal(first);
    assert.equal(m.code, 'WEFT_ERR_STREAM_REPLACED');
    await quiet(50);
    assert.equal(second.isEnded, false);
    const wl = cp.workloads().find((w) => w.name === 'dup-1');
    assert.equal(wl?.state, 'connected', 'the replaced stream ending does not disconnect the workload');
  });
});

test('a failure while serving one proxy (a compiler bug) closes that stream only', async (t) => {
  const { logger, lines } = recordingLogger();
  const snapshot = ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r', endpointsVersion: 'e' });
  let broken = false;
  const server = await StreamServer.start({
    host: '127.0.0.1',
    port: 0,
    logger,
    backend: {
      admit: () => undefined,
      release: () => undefined,
      acked: () => undefined,
      nacked: () => undefined,
      snapshotFor: (hello) => {
        if (hello.service === 'cursed' || (broken && hello.service === 'flaky')) throw new Error('compiler exploded');
        return snapshot;
      },
    },
  });
  t.after(() => server.close());
  const fine = openStream(t, server.port, { autoAck: true });
  fine.send(helloFor('fine-1', 'fine'));
  await fine.waitFor((m) => m.type === 'snapshot');
  const flaky = openStream(t, server.port, { autoAck: true });
  flaky.send(helloFor('flaky-1', 'flaky'));
  await flaky.waitFor((m) => m.type === 'snapshot');

  const cursed = openStream(t, server.port);
  cursed.send(helloFor('cursed-1', 'cursed'));
  const m = await refusal(cursed);
  assert.equal(m.code, 'WEFT_ERR_STREAM_INTERNAL');
  assert.match(m.message, /compiler exploded/);

  broken = true;
  server.refresh();
  assert.equal((await refusal(flaky)).code, 'WEFT_ERR_STREAM_INTERNAL');
  assert.equal(fine.isEnded, false);
  assert.ok(lines().some((l) => l['msg'] === 'computing a snapshot failed'));
});
