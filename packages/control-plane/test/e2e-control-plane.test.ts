/**
 * End to end with real processes: `weft control-plane`, an app, and two `weft proxy
 * --control-plane` sidecars. Traffic flows, the Service is implied by registration, the
 * control plane is killed (SIGKILL) without traffic noticing, restarted on the same data
 * dir with its state intact and the proxies re-synced; then an instance is killed and its
 * endpoint withdrawn after the grace period.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createJoinToken, createTmpDir, freePort, startHttp1Echo, startWeft, type WeftProcess } from '@weft/testing';

type Ports = Record<string, unknown>;

const ready = async (proc: WeftProcess, what: RegExp): Promise<Ports> => {
  const m = await proc.waitForLine(what, 30_000, { stream: 'stdout' });
  return JSON.parse(m[1] ?? '{}') as Ports;
};

const eventually = async (what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const get = async (port: number): Promise<string> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/hello`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return `${res.status} ${res.headers.get('x-served-by') ?? res.headers.get('x-weft-error') ?? ''}`;
  } catch (err) {
    return `error ${err instanceof Error ? err.message : String(err)}`;
  }
};

test('control plane, two sidecars and an app: traffic, implied Service, control plane killed and restarted, instance withdrawn', async (t) => {
  const dir = await createTmpDir({ prefix: 'e2e-cp', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const cpArgs = ['control-plane', '--data-dir', dir.join('cp'), '--api-addr', '127.0.0.1:0', '--stream-addr', `127.0.0.1:${streamPort}`, '--endpoint-grace', '500'];
  let cp = startWeft(cpArgs, { t });
  let api = (await ready(cp, /^weft control-plane ready (\{.*\})$/))['api'] as number;
  const token = (await readFile(dir.join('cp', 'admin-token'), 'utf8')).trim();
  const rest = async (path: string): Promise<{ items?: unknown[] } & Record<string, unknown>> => {
    const res = await fetch(`http://127.0.0.1:${api}/api/v1/${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, `GET ${path}`);
    return (await res.json()) as { items?: unknown[] } & Record<string, unknown>;
  };

  // Each sidecar joins with a token for its service, as `weft token create` makes them.
  const sidecar = async (args: string[], name: string): Promise<WeftProcess> =>
    startWeft(['proxy', '--control-plane', `127.0.0.1:${streamPort}`, '--data-dir', dir.join(name), ...args], {
      t,
      env: { WEFT_TOKEN: await createJoinToken({ apiPort: api, dataDir: dir.join('cp') }, args[args.indexOf('--service') + 1] ?? '') },
    });
  const echo = await sidecar(['--service', 'echo', '--app-port', String(app.port), '--label', 'version=v1'], 'echo');
  const echoPorts = await ready(echo, /^weft proxy ready (\{.*\})$/);
  const web = await sidecar(['--service', 'web', '--upstream', 'echo:0'], 'web');
  const webPorts = await ready(web, /^weft proxy ready (\{.*\})$/);
  const port = (webPorts['upstreams'] as Record<string, number>)['echo'] ?? 0;
  const adminOf = async (ports: Ports): Promise<{ version: string; controlPlane: { connected: boolean }; snapshot: { endpoints: Record<string, unknown[]> } }> =>
    (await (await fetch(`http://127.0.0.1:${String(ports['admin'])}/config`)).json()) as { version: string; controlPlane: { connected: boolean }; snapshot: { endpoints: Record<string, unknown[]> } };

  // Traffic flows: web -> echo's sidecar -> app.
  await eventually('traffic web -> echo', async () => (await get(port)) === '200 app');

  // The Service is implied by registration and stored; both workloads are registered and healthy.
  const svc = (await rest('services/default/echo')) as { metadata: { annotations: Record<string, string> }; spec: { ports: unknown[] } };
  assert.equal(svc.metadata.annotations['weft.dev/implied-by'], 'registration');
  assert.deepEqual(svc.spec.ports, [{ name: 'http', port: 80, appProtocol: 'http' }]);
  await eventually('both workloads healthy and in sync', async () => {
    const wl = (await rest('workloads')).items as { spec: { service: string }; metadata: { labels: Record<string, string> }; status?: { health?: string; config?: { acknowledgedVersion?: string } } }[];
    return wl.length === 2 && wl.every((w) => w.status?.health === 'HEALTHY' && w.status.config?.acknowledgedVersion !== undefined);
  });
  const proxies = async (): Promise<{ workload: string; inSync: boolean; ackedVersion?: string }[]> => (await rest('proxies')).items as { workload: string; inSync: boolean; ackedVersion?: string }[];
  assert.deepEqual((await proxies()).map((p) => p.inSync), [true, true]);
  const versions = { echo: (await adminOf(echoPorts)).version, web: (await adminOf(webPorts)).version };

  // The control plane dies hard; traffic does not notice.
  await cp.kill();
  await eventually('web sees the stream down', async () => !(await adminOf(webPorts)).controlPlane.connected);
  const during = await Promise.all(Array.from({ length: 30 }, () => get(port)));
  assert.deepEqual(new Set(during), new Set(['200 app']), 'every request served while the control plane is down');

  // Restarted on the same data dir: state intact, proxies re-synced, nothing re-sent.
  cp = startWeft(cpArgs, { t });
  api = (await ready(cp, /^weft control-plane ready (\{.*\})$/))['api'] as number;
  await eventually('both proxies reconnected and in sync', async () => {
    const p = await proxies();
    return p.length === 2 && p.every((x) => x.inSync);
  });
  assert.equal((await rest('services/default/echo'))['kind'], 'Service');
  const wl = (await rest('workloads')).items as { metadata: { labels: Record<string, string> }; status?: { health?: string } }[];
  assert.equal(wl.length, 2);
  assert.ok(wl.every((w) => w.status?.health === 'HEALTHY'));
  assert.deepEqual(wl.map((w) => w.metadata.labels['version'] ?? null).sort(), ['v1', null].sort());
  assert.deepEqual({ echo: (await adminOf(echoPorts)).version, web: (await adminOf(webPorts)).version }, versions, 'the same config on both');
  assert.equal(await get(port), '200 app');

  // An instance dies: its endpoint is withdrawn from web after the grace period.
  await echo.kill();
  await eventually('echo withdrawn from web', async () => ((await adminOf(webPorts)).snapshot.endpoints['echo.default'] ?? []).length === 0, 10_000);
  assert.match(await get(port), /^503 /);
  const gone = ((await rest('workloads')).items as { spec: { service: string }; status?: { health?: string; conditions?: { type: string; reason: string }[] } }[]).find((w) => w.spec.service === 'echo');
  assert.equal(gone?.status?.health, 'UNHEALTHY');
  assert.equal(gone?.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Withdrawn');
  assert.equal(await cp.stop('SIGTERM'), 0);
});

test('weft control-plane: bad flags get a clear error and exit 1', async (t) => {
  const dir = await createTmpDir({ prefix: 'e2e-flags', t });
  const cases: [string[], RegExp][] = [
    [['--store', 'etcd://10.0.0.1:2379,10.0.0.2:2379'], /^error WEFT_ERR_CONFIG_INVALID: --store etcd:\/\/10\.0\.0\.1:2379,10\.0\.0\.2:2379: the etcd backend is not available yet/],
    [['--store', 'postgres'], /--store postgres: must be file, memory or etcd:/],
    [['--api-addr', 'nowhere'], /--api-addr nowhere: must be HOST:PORT/],
  ];
  for (const [args, message] of cases) {
    const proc = startWeft(['control-plane', '--data-dir', dir.path, '--stream-addr', '127.0.0.1:0', ...args], { t });
    const exit = await proc.exited;
    assert.equal(exit.code, 1, proc.output());
    assert.ok(proc.lines.some((l) => l.stream === 'stderr' && message.test(l.text)), proc.output());
  }
});
