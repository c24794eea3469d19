import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { createTmpDir, startHttp1Echo, startWeft, type TmpDir } from '@weft/testing';

/**
 * `weft run` from sources with `--config` files (no control plane): an app calls
 * `http://echo/echo` through HTTP_PROXY to an echo server behind a second `weft proxy`;
 * the app's exit code is weft run's and the sidecar is gone after; SIGTERM stops both.
 */

/** The tiny app: `call CODE` calls echo through HTTP_PROXY and exits CODE; `sleep` waits for SIGTERM. */
const APP = `
import http from 'node:http';
const proxy = new URL(process.env.HTTP_PROXY);
const info = JSON.stringify({ pid: process.pid, httpProxy: process.env.HTTP_PROXY, upstream: process.env.WEFT_UPSTREAM_ECHO, noProxy: process.env.NO_PROXY });
if (process.argv[2] === 'sleep') {
  process.on('SIGTERM', () => { console.log('app got SIGTERM'); process.exit(0); });
  setInterval(() => undefined, 1000);
  console.log('app info ' + info);
} else {
  http.get({ host: proxy.hostname, port: proxy.port, path: 'http://echo/echo', headers: { host: 'echo' } }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => {
      console.log('app info ' + info);
      console.log('app status ' + res.statusCode + ' ' + JSON.parse(body).url);
      process.exit(Number(process.argv[3]));
    });
  }).on('error', (err) => { console.error('app error ' + err.message); process.exit(99); });
}
`;

const snapshot = (services: object[], endpoints: Record<string, object[]>): string =>
  JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r1', endpointsVersion: 'e1', services, endpoints, transport: { tls: { mode: 'disabled' } }, limits: {} });

/** Whether something still listens on the loopback `port`. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** An echo server behind its own `weft proxy`, and the config file of a client sidecar that reaches it as `echo`. */
const setup = async (t: TestContext): Promise<{ dir: TmpDir; clientConfig: string; app: string }> => {
  const dir = await createTmpDir({ prefix: 'run', t });
  const echo = await startHttp1Echo();
  t.after(() => echo.close());
  await writeFile(dir.join('echo.json'), snapshot([], {}));
  const echoProxy = startWeft(['proxy', '--config', dir.join('echo.json'), '--service', 'echo', '--app-port', String(echo.port)], { t });
  const m = await echoProxy.waitForLine(/^weft proxy ready (\{.*\})$/, 20_000, { stream: 'stdout' });
  const inbound = (JSON.parse(m[1] as string) as { inbound: number }).inbound;
  const clientConfig = dir.join('client.json');
  await writeFile(clientConfig, snapshot([{ name: 'echo' }], { 'echo.default': [{ address: '127.0.0.1', port: inbound }] }));
  const app = dir.join('app.mjs');
  await writeFile(app, APP);
  return { dir, clientConfig, app };
};

test('weft run: the app reaches echo through HTTP_PROXY, its exit code is kept and the sidecar is gone', { timeout: 30_000 }, async (t) => {
  const { clientConfig, app } = await setup(t);
  const run = startWeft(['run', '--service', 'client', '--config', clientConfig, '--upstream', 'echo:0', '--', process.execPath, app, 'call', '3'], { t });
  const exit = await run.exited;
  const out = run.output();
  assert.match(out, /app status 200 \/echo/, out);
  assert.equal(exit.code, 3, out);
  const info = JSON.parse(/app info (\{.*\})/.exec(out)?.[1] ?? '{}') as { httpProxy: string; upstream?: string; noProxy: string };
  assert.match(info.upstream ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(info.noProxy, /localhost/);
  const port = Number(new URL(info.httpProxy).port);
  assert.equal(await listening(port), false, 'the sidecar no longer listens');
  assert.equal(await listening(Number(info.upstream?.split(':')[1])), false);
});

test('weft run: SIGTERM goes to the app, then the sidecar drains; nothing is left', { timeout: 30_000 }, async (t) => {
  const { clientConfig, app } = await setup(t);
  const run = startWeft(['run', '--service', 'client', '--config', clientConfig, '--drain-timeout', '500', '--', process.execPath, app, 'sleep'], { t });
  const m = await run.waitForLine(/^app info (\{.*\})$/, 20_000);
  const info = JSON.parse(m[1] as string) as { pid: number; httpProxy: string };
  const port = Number(new URL(info.httpProxy).port);
  assert.equal(await listening(port), true);
  const code = await run.stop('SIGTERM', 15_000);
  assert.equal(code, 0, run.output());
  assert.match(run.output(), /app got SIGTERM/);
  assert.equal(isAlive(info.pid), false, 'the app is gone');
  assert.equal(await listening(port), false, 'the sidecar is gone');
});

test('weft run killed outright (SIGKILL): its sidecar notices and drains instead of outliving it', { timeout: 30_000 }, async (t) => {
  const { clientConfig, app } = await setup(t);
  const run = startWeft(['run', '--service', 'client', '--config', clientConfig, '--drain-timeout', '500', '--', process.execPath, app, 'sleep'], { t });
  const m = await run.waitForLine(/^app info (\{.*\})$/, 20_000);
  const info = JSON.parse(m[1] as string) as { pid: number; httpProxy: string };
  t.after(() => {
    if (isAlive(info.pid)) process.kill(info.pid, 'SIGKILL');
  });
  const port = Number(new URL(info.httpProxy).port);
  assert.equal(await listening(port), true);
  assert.ok(run.pid !== undefined);
  process.kill(run.pid, 'SIGKILL');
  // The app (any program, in weft run's process group) is not ours to watch: end it here,
  // so that it stops holding weft run's output open.
  process.kill(info.pid, 'SIGKILL');
  await run.exited;
  const deadline = Date.now() + 10_000;
  while ((await listening(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await listening(port), false, 'the sidecar stopped listening once weft run was gone');
});
