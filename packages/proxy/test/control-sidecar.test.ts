/**
 * Real `weft proxy --control-plane` processes: they keep serving while the control plane is
 * down and re-sync when it is back; a snapshot they cannot load is NACKed and the last good
 * config keeps serving (and shows in /config); restarted while the control plane is down,
 * they start from their cached snapshot.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { createTmpDir, freePort, startHttp1Echo } from '@weft/testing';
import { fakeSnapshot, startFakeControlPlane } from './control-fake-cp.js';
import { configOf, eventually, get, getMtls, startControlPlaneProcess, startStreamProxy } from './control-fixture.js';
import { upstreamPortOf } from './http1-mesh-fixture.js';

test('the control plane stops and comes back: traffic flows on the last config meanwhile, then the proxies re-sync', async (t) => {
  const dir = await createTmpDir({ prefix: 'cp-restart', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const echo = await startStreamProxy(t, streamPort, ['--service', 'echo', '--app-port', String(app.port), '--data-dir', dir.join('echo')], await cp.token('echo'));
  const web = await startStreamProxy(t, streamPort, ['--service', 'web', '--upstream', 'echo:0', '--data-dir', dir.join('web')], await cp.token('web'));
  const port = upstreamPortOf(web, 'echo');
  await eventually('traffic through web to echo', async () => {
    const r = await get(port);
    return 'status' in r && r.status === 200 && r.servedBy === 'app';
  });
  const before = await configOf(web);
  assert.equal(before.controlPlane.connected, true);

  assert.equal(await cp.proc.stop('SIGTERM'), 0, 'the control plane exits 0 on SIGTERM');
  await eventually('web sees the stream down', async () => !(await configOf(web)).controlPlane.connected);
  for (let i = 0; i < 20; i++) assert.deepEqual(await get(port), { status: 200, servedBy: 'app' }, 'serving on the last config');
  // Meanwhile it keeps trying.
  await eventually('a few reconnect attempts', async () => (await configOf(web)).controlPlane.failures >= 2);

  const again = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  await eventually('both proxies reconnected', async () => (await configOf(web)).controlPlane.connected && (await configOf(echo)).controlPlane.connected, 20_000);
  const after = await configOf(web);
  assert.equal(after.version, before.version, 'the same config: nothing had changed');
  assert.deepEqual(await get(port), { status: 200, servedBy: 'app' });
  await again.proc.stop('SIGTERM');
});

test('a snapshot the proxy cannot load is NACKed; the last good config keeps serving and /config says why', async (t) => {
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const cp = await startFakeControlPlane();
  t.after(() => cp.close());
  cp.onHello = (s) => s.send({ type: 'snapshot', version: 'good/e', snapshot: fakeSnapshot('good', 'e', { services: [{ name: 'web' }] }) });
  const dir = await createTmpDir({ prefix: 'nack', t });
  const web = await startStreamProxy(t, cp.port, ['--service', 'web', '--app-port', String(app.port), '--data-dir', dir.path]);
  const { stream } = await cp.waitFor((m) => m['type'] === 'ack' && m['version'] === 'good/e');
  assert.deepEqual(await get(web.ports.inbound ?? 0), { status: 200, servedBy: 'app' });

  const unloadable = fakeSnapshot('bad', 'e', {
    services: [{ name: 'web' }],
    transport: { tls: { mode: 'static', certFile: dir.join('missing.pem'), keyFile: dir.join('missing.key'), caFile: dir.join('ca.pem') } },
  });
  stream.send({ type: 'snapshot', version: 'bad/e', snapshot: unloadable });
  const { message: nack } = await cp.waitFor((m) => m['type'] === 'nack');
  assert.equal(nack['version'], 'bad/e');
  assert.match(String(nack['error']), /transport\.tls\.certFile: cannot read .*missing\.pem/);
  const config = await configOf(web);
  assert.equal(config.version, 'good/e', 'still the last good config');
  assert.equal(config.lastRejection?.version, 'bad/e');
  assert.equal(config.controlPlane.lastNack?.version, 'bad/e');
  assert.deepEqual(await get(web.ports.inbound ?? 0), { status: 200, servedBy: 'app' });

  // The next good one is applied and ACKed, and clears the rejection.
  stream.send({ type: 'snapshot', version: 'good2/e', snapshot: fakeSnapshot('good2', 'e', { services: [{ name: 'web' }] }) });
  await cp.waitFor((m) => m['type'] === 'ack' && m['version'] === 'good2/e');
  const later = await configOf(web);
  assert.equal(later.version, 'good2/e');
  assert.equal(later.lastRejection, undefined);
});

test('a proxy restarted while the control plane is down starts from its cached snapshot, then re-syncs', async (t) => {
  const dir = await createTmpDir({ prefix: 'cache', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const inbound = await freePort();
  const args = ['--service', 'echo', '--workload', 'echo-1', '--app-port', String(app.port), '--port', String(inbound), '--data-dir', dir.join('proxy')];
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const token = await cp.token('echo');
  const first = await startStreamProxy(t, streamPort, args, token);
  await eventually('synced', async () => (await configOf(first)).controlPlane.lastAckedVersion !== undefined);
  const synced = await configOf(first);
  assert.equal(await first.proc.stop('SIGTERM'), 0);
  await cp.proc.kill();

  // Control plane down: the proxy is ready at once, from its cache, and serves.
  const second = await startStreamProxy(t, streamPort, args, token);
  const cached = await configOf(second);
  assert.equal(cached.controlPlane.origin, 'cache');
  assert.equal(cached.controlPlane.connected, false);
  assert.equal(cached.version, synced.version);
  // Its mesh port serves mTLS with the certificate it cached (plaintext would get 403: STRICT).
  const identityFile = join(dir.join('proxy'), 'proxy-cache', 'echo-1.identity.json');
  assert.deepEqual(await getMtls(inbound, identityFile), { status: 200, servedBy: 'app' });

  // The control plane returns: the proxy re-syncs (and, nothing having changed, is sent nothing).
  await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  await eventually('reconnected', async () => (await configOf(second)).controlPlane.connected, 20_000);
  const resynced = await configOf(second);
  assert.equal(resynced.version, synced.version);
  assert.equal(resynced.controlPlane.origin, 'cache', 'in sync already: no snapshot had to be sent');
});

test('without a cache and without a control plane, the proxy waits (not ready) and stops cleanly on SIGTERM', async (t) => {
  const dir = await createTmpDir({ prefix: 'wait', t });
  const streamPort = await freePort();
  const { startWeft } = await import('@weft/testing');
  const adminPort = await freePort();
  const proc = startWeft(['proxy', '--service', 'lonely', '--control-plane', `127.0.0.1:${streamPort}`, '--data-dir', dir.path, '--admin-port', String(adminPort)], { t });
  await eventually('admin up, not ready', async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/ready`);
    const text = await res.text();
    return res.status === 503 && /waiting for the first snapshot from the control plane/.test(text);
  });
  assert.equal(proc.lines.some((l) => /weft proxy ready/.test(l.text)), false);
  assert.equal(await proc.stop('SIGTERM'), 0);
});
