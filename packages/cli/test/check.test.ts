import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '@weft/core';
import { startControlPlane } from '@weft/control-plane';
import { createJoinToken, createTmpDir, startHttp1Echo, startWeft } from '@weft/testing';

/**
 * `weft check` and `weft proxy-config` from sources against a control plane started in this
 * process (memory store, temp data dir) with one `weft proxy` connected: all good (exit 0,
 * the proxy listed, in sync); once the proxy is killed its workload is reported (exit 1).
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('weft check: exit 0 with a connected proxy in sync, 1 once it is gone', { timeout: 30_000 }, async (t) => {
  const dir = await createTmpDir({ prefix: 'check', t });
  const cp = await startControlPlane({
    dataDir: dir.path,
    apiAddr: '127.0.0.1:0',
    streamAddr: '127.0.0.1:0',
    store: 'memory',
    logger: createLogger({ level: 'silent' }),
    graceMs: 5000,
  });
  t.after(() => cp.close());
  const echo = await startHttp1Echo();
  t.after(() => echo.close());
  const proxy = startWeft(
    ['proxy', '--control-plane', `127.0.0.1:${cp.streamPort}`, '--service', 'echo', '--app-port', String(echo.port), '--data-dir', dir.join('proxy')],
    { t, env: { WEFT_TOKEN: await createJoinToken({ apiPort: cp.apiPort, dataDir: dir.path }, 'echo') } },
  );
  await proxy.waitForLine(/^weft proxy ready /, 20_000, { stream: 'stdout' });
  for (let i = 0; i < 100 && !(cp.proxies()[0]?.inSync ?? false); i++) await sleep(100);
  const env = { WEFT_API: `http://127.0.0.1:${cp.apiPort}`, WEFT_DATA_DIR: dir.path, WEFT_ADMIN_TOKEN: undefined };

  const ok = startWeft(['check'], { t, env });
  assert.equal((await ok.exited).code, 0, ok.output());
  assert.match(ok.output(), /✓ control plane reachable/);
  assert.match(ok.output(), /✓ self-managed CA root "CN=Weft Root CA cluster\.local" \(signing\) valid until .* \(\d+ days\)/);
  assert.match(ok.output(), /✓ proxy default\/\S+ \(service echo\) in sync at version \S+/);
  assert.match(ok.output(), /✓ proxy default\/\S+ \(service echo\) certificate spiffe:\/\/cluster\.local\/ns\/default\/sa\/echo valid until \S+/);

  const cfg = startWeft(['proxy-config', 'echo', '-o', 'json'], { t, env });
  assert.equal((await cfg.exited).code, 0, cfg.output());
  const view = JSON.parse(cfg.lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n')) as {
    items: { service: string; inSync: boolean; ackedVersion: string | null; snapshot: { routesVersion?: string; endpointsVersion?: string; services?: { name: string }[] } | null; snapshotNote?: string }[];
  };
  assert.equal(view.items.length, 1);
  assert.equal(view.items[0]?.inSync, true);
  assert.notEqual(view.items[0]?.ackedVersion, null);
  // The effective snapshot, as the control plane sends it, is the version the proxy acknowledged.
  const snap = view.items[0]?.snapshot;
  assert.ok(snap, view.items[0]?.snapshotNote);
  assert.equal(`${snap.routesVersion}/${snap.endpointsVersion}`, view.items[0]?.ackedVersion);
  assert.ok(snap.services?.some((s) => s.name === 'echo'), 'its own service is in its snapshot');

  await proxy.kill();
  for (let i = 0; i < 50 && cp.proxies().length > 0; i++) await sleep(100);
  const bad = startWeft(['check'], { t, env });
  assert.equal((await bad.exited).code, 1, bad.output());
  assert.match(bad.output(), /✗ workload default\/\S+ \(service echo\) is grace/);
});
