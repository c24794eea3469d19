/** Small parts of the config stream client: backoff, line splitting, workload names, hello, cache. */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { ProxyBootstrapSchema, ProxySnapshotSchema } from '@weft/api';
import { createTmpDir } from '@weft/testing';
import { LineSplitter } from '@weft/core';
import { Backoff, defaultWorkloadName, helloFromBootstrap, SnapshotCache } from '../src/control/index.js';

test('backoff: exponential caps with full jitter, capped, reset', () => {
  const caps: number[] = [];
  const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.999 });
  for (let i = 0; i < 7; i++) {
    caps.push(b.cap);
    const d = b.next();
    assert.ok(d >= 0 && d < (caps.at(-1) ?? 0), `delay ${d} within [0, cap)`);
  }
  assert.deepEqual(caps, [100, 200, 400, 800, 1000, 1000, 1000]);
  b.reset();
  assert.equal(b.cap, 100);
  const zero = new Backoff({ random: () => 0 });
  assert.equal(zero.next(), 0, 'full jitter may retry at once');
  // Many attempts never overflow.
  const long = new Backoff({ baseMs: 1, maxMs: 10 });
  for (let i = 0; i < 5000; i++) long.next();
  assert.equal(long.cap, 10);
});

test('line splitter: lines across chunks, CRLF, empty lines, bound', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(s.push(Buffer.from('ab')), []);
  assert.deepEqual(s.push(Buffer.from('c\r\n\nde\nf')), ['abc', 'de']);
  assert.deepEqual(s.push(Buffer.from('g\n')), ['fg']);
  assert.equal(s.push(Buffer.from('x'.repeat(11))), 'overflow');
  const t = new LineSplitter(4);
  assert.deepEqual(t.push(Buffer.from('abcd\n')), ['abcd']);
  assert.equal(t.push(Buffer.from('abcde\n')), 'overflow');
  // Multi-byte characters split across chunks decode whole.
  const u = new LineSplitter(100);
  const bytes = Buffer.from('é€\n');
  assert.deepEqual([...u.push(bytes.subarray(0, 1)), ...u.push(bytes.subarray(1))], ['é€']);
});

test('default workload names are RFC 1123 labels, unique per address and port', () => {
  assert.equal(defaultWorkloadName('reviews', '127.0.0.1', 9080), 'reviews-127-0-0-1-9080');
  const v6 = defaultWorkloadName('a-rather-long-service-name-for-sure', 'fd00:1234:5678:9abc:def0:1234:5678:9abc', 65535);
  assert.ok(v6.length <= 63);
  assert.match(v6, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  assert.notEqual(v6, defaultWorkloadName('a-rather-long-service-name-for-sure', 'fd00:1234:5678:9abc:def0:1234:5678:9abd', 65535));
  assert.equal(defaultWorkloadName('Web_App', '::1', 80), 'web-app---1-80');
});

test('the hello says who the proxy is and what it calls', () => {
  const bootstrap = ProxyBootstrapSchema.parse({ service: 'web', port: 9000, appPort: 3000, upstreams: [{ service: 'api', port: 9001 }], labels: { version: 'v2' } });
  const hello = helloFromBootstrap(bootstrap, { workload: 'web-1', address: '127.0.0.1', lastVersion: 'a/b' });
  assert.deepEqual(hello, {
    type: 'hello',
    workload: 'web-1',
    service: 'web',
    namespace: 'default',
    address: '127.0.0.1',
    port: 9000,
    appProtocol: 'http',
    labels: { version: 'v2' },
    upstreams: ['api'],
    allServices: false,
    lastVersion: 'a/b',
    proxyVersion: '0.1.0',
  });
  assert.equal(helloFromBootstrap({ ...bootstrap, httpProxyPort: 0 }, { workload: 'w', address: '127.0.0.1' }).allServices, true);
});

test('snapshot cache: atomic saves, the newest wins, damaged files are ignored', async (t) => {
  const dir = await createTmpDir({ prefix: 'cache', t });
  const cache = new SnapshotCache(dir.join('sub', 'w.json'));
  assert.deepEqual(await cache.read(), { kind: 'missing' });
  const snap = (v: string) => ProxySnapshotSchema.parse({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: v, endpointsVersion: 'e' });
  await Promise.all([cache.save({ version: '1/e', snapshot: snap('1') }), cache.save({ version: '2/e', snapshot: snap('2') }), cache.save({ version: '3/e', snapshot: snap('3') })]);
  const read = await cache.read();
  assert.equal(read.kind, 'found');
  assert.equal(read.kind === 'found' ? read.cached.version : '', '3/e');
  assert.deepEqual(await readdir(dir.join('sub')), ['w.json'], 'no temporary file left behind');
  await writeFile(cache.path, '{"type":"snapshot","version":"x"');
  assert.equal((await cache.read()).kind, 'unusable');
  await writeFile(cache.path, '{"type":"snapshot","version":"x","snapshot":{"kind":"Nope"}}');
  const bad = await cache.read();
  assert.equal(bad.kind, 'unusable');
});
