/**
 * Workload identity end to end, with real processes: proxies join a real control plane
 * with join tokens, get certificates for keys they generated, and talk mutual TLS; the
 * mesh port in STRICT mode refuses plaintext (curl) and TLS without a mesh certificate
 * (`openssl s_client`); bad tokens and a proxy asking for another's config are refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:http2';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONFIG_STREAM_PATH } from '@weft/api';
import { createJoinToken, createTestPki, createTmpDir, freePort, startHttp1Echo, startWeft } from '@weft/testing';
import { configOf, eventually, get, startControlPlaneProcess, startStreamProxy } from './control-fixture.js';
import { upstreamPortOf } from './http1-mesh-fixture.js';

const curl = (args: string[]): { status: number; headers: string; body: string } => {
  const r = spawnSync('curl', ['-sS', '-D', '-', '--max-time', '5', ...args], { encoding: 'utf8' });
  const [head = '', ...rest] = r.stdout.split('\r\n\r\n');
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(head)?.[1] ?? 0), headers: head, body: rest.join('\r\n\r\n') };
};

/** `openssl s_client` to the port; what it printed (its own handshake report included). */
const sClient = (port: number, extra: string[] = []): string => {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_3', '-ign_eof', ...extra], {
    input: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
    encoding: 'utf8',
    timeout: 10_000,
  });
  return `${r.stdout}\n${r.stderr}`;
};

test('proxies join with tokens and talk mTLS; a STRICT mesh port refuses plaintext and foreign certificates', async (t) => {
  const dir = await createTmpDir({ prefix: 'mesh-id', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const echo = await startStreamProxy(t, streamPort, ['--service', 'echo', '--app-port', String(app.port), '--data-dir', dir.join('echo'), '--workload', 'echo-1'], await cp.token('echo'));
  const web = await startStreamProxy(t, streamPort, ['--service', 'web', '--upstream', 'echo:0', '--data-dir', dir.join('web')], await cp.token('web'));
  const port = upstreamPortOf(web, 'echo');
  await eventually('traffic through web to echo', async () => {
    const r = await get(port);
    return 'status' in r && r.status === 200 && r.servedBy === 'app';
  });

  // The caller's snapshot: workload certificates, and the identity echo's proxy must present.
  const config = (await configOf(web)) as unknown as { snapshot: { transport: { tls: { mode: string }; mtlsMode: string }; endpoints: Record<string, { identity?: string }[]> } };
  assert.equal(config.snapshot.transport.tls.mode, 'workload');
  assert.equal(config.snapshot.transport.mtlsMode, 'STRICT');
  assert.equal(config.snapshot.endpoints['echo.default']?.[0]?.identity, 'spiffe://cluster.local/ns/default/sa/echo');

  // The key stays with the proxy: in its cache dir, readable by its user only.
  const cached = join(dir.join('echo'), 'proxy-cache', 'echo-1.identity.json');
  assert.equal((await stat(cached)).mode & 0o777, 0o600);
  const identity = JSON.parse(await readFile(cached, 'utf8')) as { spiffeId: string };
  assert.equal(identity.spiffeId, 'spiffe://cluster.local/ns/default/sa/echo');

  // Plaintext to the mesh port: a 403 that says why; the app never sees it.
  const inbound = echo.ports.inbound ?? 0;
  const plain = curl([`http://127.0.0.1:${inbound}/hello`]);
  assert.equal(plain.status, 403);
  assert.match(plain.headers, /x-weft-error: WEFT_ERR_PEER_MTLS_REQUIRED/i);
  assert.doesNotMatch(plain.headers, /x-served-by/i);

  // TLS without a client certificate: the handshake ends with "certificate required".
  assert.match(sClient(inbound), /certificate required|alert number 116/i);
  // A self-signed certificate naming the right SPIFFE ID, and one from another CA: the
  // connection is closed once the handshake shows the chain is not trusted; no HTTP answer.
  const pki = await createTestPki(dir.join('pki'), ['web'], { trustDomain: 'cluster.local' });
  const forged = pki.leaf('untrusted');
  for (const cert of [pki.leaf('untrusted'), pki.leaf('web')]) {
    const out = sClient(inbound, ['-cert', cert.cert, '-key', cert.key]);
    assert.match(out, /BEGIN CERTIFICATE/, 'the handshake itself ran');
    assert.doesNotMatch(out, /HTTP\/1\.1 \d{3}/, `no answer for ${cert === forged ? 'a self-signed' : 'a foreign CA'} certificate`);
  }

  const metrics = await (await fetch(`http://127.0.0.1:${echo.ports.admin}/metrics`)).text();
  assert.match(metrics, /^weft_proxy_inbound_plaintext_refused_total 1$/m);
  const expiry = Number(/^weft_proxy_certificate_expiration_timestamp_seconds (\d+)$/m.exec(metrics)?.[1] ?? 0);
  assert.ok(expiry > Date.now() / 1000 + 3600, 'the certificate expiry is exported, about a day ahead');

  // The destination side labels mesh traffic with the caller's identity and mutual_tls.
  assert.match(metrics, /istio_requests_total\{reporter="destination",[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/web"[^}]*connection_security_policy="mutual_tls"[^}]*response_code="200"/);

  // PERMISSIVE (for migration): plaintext is served too, and metrics say which it was.
  const admin = (await readFile(join(dir.join('cp'), 'admin-token'), 'utf8')).trim();
  const mesh = { apiVersion: 'weft.dev/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode: 'PERMISSIVE' } } };
  const applied = await fetch(`http://127.0.0.1:${cp.ports.api}/api/v1/apply`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify([mesh]),
  });
  assert.equal(applied.status, 200, await applied.text());
  // (fetch, not curl: the app runs in this process, and a synchronous curl would block it.)
  await eventually('plaintext served in PERMISSIVE mode', async () => {
    const r = await get(inbound);
    return 'status' in r && r.status === 200 && r.servedBy === 'app';
  });
  assert.deepEqual(await get(port), { status: 200, servedBy: 'app' }, 'mTLS still works');
  const permissive = await (await fetch(`http://127.0.0.1:${echo.ports.admin}/metrics`)).text();
  assert.match(permissive, /istio_requests_total\{reporter="destination",[^}]*connection_security_policy="none"[^}]*response_code="200"/);
});

test('join tokens for another service, tampered, revoked or replayed are refused, and the proxy says why', async (t) => {
  const dir = await createTmpDir({ prefix: 'mesh-token', t });
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const refusal = async (token: string, name: string): Promise<string> => {
    const proc = startWeft(['proxy', '--control-plane', `127.0.0.1:${streamPort}`, '--service', 'echo', '--data-dir', dir.join(name)], { t, env: { WEFT_TOKEN: token } });
    const exit = await proc.exited;
    assert.notEqual(exit.code, 0, `${name}: the proxy must not start`);
    return proc.output();
  };
  assert.match(await refusal(await cp.token('web'), 'scope'), /WEFT_ERR_TOKEN_SCOPE/);
  const good = await cp.token('echo');
  const [prefix, payload = '', mac] = good.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const tampered = [prefix, Buffer.from(JSON.stringify({ ...claims, exp: Number(claims['exp']) + 86_400 })).toString('base64url'), mac].join('.');
  assert.match(await refusal(tampered, 'tampered'), /WEFT_ERR_TOKEN_INVALID/);

  const admin = (await readFile(join(dir.join('cp'), 'admin-token'), 'utf8')).trim();
  const revoked = await cp.token('echo');
  const id = JSON.parse(Buffer.from(revoked.split('.')[1] ?? '', 'base64url').toString('utf8')) as { id: string };
  const del = await fetch(`http://127.0.0.1:${cp.ports.api}/api/v1/tokens/${id.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
  assert.equal(del.status, 200);
  assert.match(await refusal(revoked, 'revoked'), /WEFT_ERR_TOKEN_REVOKED/);

  // A single-use token admits one join; replayed, it is refused.
  const once = await createJoinToken({ apiPort: cp.ports.api, dataDir: dir.join('cp') }, 'echo', { singleUse: true });
  const first = startWeft(['proxy', '--control-plane', `127.0.0.1:${streamPort}`, '--service', 'echo', '--data-dir', dir.join('once-1')], { t, env: { WEFT_TOKEN: once } });
  await first.waitForLine(/^weft proxy ready /, 30_000, { stream: 'stdout' });
  assert.match(await refusal(once, 'replay'), /WEFT_ERR_TOKEN_USED/);

  // A token pinning another control plane's CA: the proxy refuses to talk on.
  const other = await startControlPlaneProcess(t, dir.join('cp2'), await freePort());
  const elsewhere = await other.token('echo');
  const proc = startWeft(['proxy', '--control-plane', `127.0.0.1:${streamPort}`, '--service', 'echo', '--data-dir', dir.join('pin')], { t, env: { WEFT_TOKEN: elsewhere } });
  assert.notEqual((await proc.exited).code, 0);
  assert.match(proc.output(), /WEFT_ERR_IDENTITY_CA_MISMATCH/);
});

test('the config stream serves a proxy only the config of the identity its certificate names', async (t) => {
  const dir = await createTmpDir({ prefix: 'mesh-stream', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  await startStreamProxy(t, streamPort, ['--service', 'echo', '--app-port', String(app.port), '--data-dir', dir.join('echo'), '--workload', 'echo-1'], await cp.token('echo'));
  const bundle = await readFile(join(dir.join('cp'), 'ca', 'ca.crt'), 'utf8');
  const echoId = JSON.parse(await readFile(join(dir.join('echo'), 'proxy-cache', 'echo-1.identity.json'), 'utf8')) as { keyPem: string; chainPem: string };
  const hello = (service: string) => ({ type: 'hello', workload: `${service}-x`, service, namespace: 'default', address: '127.0.0.1', port: 9, appProtocol: 'http' });
  const ask = (service: string, client?: { key: string; cert: string }): Promise<string> =>
    new Promise((resolve, reject) => {
      const session = connect(`https://127.0.0.1:${streamPort}`, { ca: bundle, checkServerIdentity: () => undefined, ...client });
      session.on('error', reject);
      const req = session.request({ ':method': 'POST', ':path': CONFIG_STREAM_PATH, 'content-type': 'application/x-ndjson' });
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        text += c;
        if (text.includes('\n')) {
          session.destroy();
          resolve(text);
        }
      });
      req.on('error', reject);
      req.write(`${JSON.stringify(hello(service))}\n`);
    });
  // No certificate: no config at all, for anyone.
  assert.match(await ask('echo'), /"code":"WEFT_ERR_IDENTITY_REFUSED"/);
  // echo's certificate, asking for web's config: refused; for its own: a snapshot.
  const asEcho = { key: echoId.keyPem, cert: echoId.chainPem };
  assert.match(await ask('web', asEcho), /"code":"WEFT_ERR_IDENTITY_REFUSED".*spiffe:\/\/cluster\.local\/ns\/default\/sa\/echo/);
  assert.match(await ask('echo', asEcho), /"type":"snapshot"/);
});

test('weft ca rotate under traffic: every proxy trusts the new root, renews with it, the old root is retired; no request fails', async (t) => {
  const dir = await createTmpDir({ prefix: 'mesh-rotate', t });
  const app = await startHttp1Echo({ name: 'app' });
  t.after(app.close);
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const echo = await startStreamProxy(t, streamPort, ['--service', 'echo', '--app-port', String(app.port), '--data-dir', dir.join('echo'), '--workload', 'echo-1'], await cp.token('echo'));
  const web = await startStreamProxy(t, streamPort, ['--service', 'web', '--upstream', 'echo:0', '--data-dir', dir.join('web'), '--workload', 'web-1'], await cp.token('web'));
  const port = upstreamPortOf(web, 'echo');
  await eventually('traffic through web to echo', async () => {
    const r = await get(port);
    return 'status' in r && r.status === 200;
  });
  const oldRoot = (await readFile(join(dir.join('cp'), 'ca', 'ca.crt'), 'utf8')).trim();
  const adminToken = (await readFile(join(dir.join('cp'), 'admin-token'), 'utf8')).trim();
  const streams = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${cp.ports.api}/api/v1/proxies`, { headers: { authorization: `Bearer ${adminToken}` } });
    const body = (await res.json()) as { items: { workload: string; id: string }[] };
    return body.items.map((p) => `${p.workload}=${p.id}`).sort().join(' ');
  };
  const streamsBefore = await streams();

  // Traffic all along: four callers in a loop, each request counted.
  const outcomes = new Map<string, number>();
  let running = true;
  const caller = async (): Promise<void> => {
    while (running) {
      const r = await get(port);
      const key = 'status' in r ? String(r.status) : r.error;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
  };
  const callers = Array.from({ length: 4 }, caller);
  const rotate = startWeft(['ca', 'rotate', '--wait', '60000', '--api', `http://127.0.0.1:${cp.ports.api}`, '--data-dir', dir.join('cp')], { t, env: { WEFT_ADMIN_TOKEN: undefined } });
  const exit = await rotate.exited;
  await new Promise((r) => setTimeout(r, 500));
  running = false;
  await Promise.all(callers);
  assert.equal(exit.code, 0, rotate.output());
  assert.match(rotate.output(), /renewed their certificate with the new root: all 2 connected proxies/);
  assert.deepEqual([...outcomes.keys()], ['200'], `every request succeeded: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  assert.ok((outcomes.get('200') ?? 0) > 50, 'traffic flowed during the rotation');
  assert.equal(await streams(), streamsBefore, 'no proxy had to reconnect its config stream');

  // One root again, a new one; both proxies hold certificates that chain to it.
  const newRoot = (await readFile(join(dir.join('cp'), 'ca', 'ca.crt'), 'utf8')).trim();
  assert.notEqual(newRoot, oldRoot);
  assert.equal(newRoot.match(/BEGIN CERTIFICATE/g)?.length, 1);
  for (const [p, file] of [[echo, 'echo-1'], [web, 'web-1']] as const) {
    const cfg = (await configOf(p)) as unknown as { snapshot: { transport: { tls: { trustBundle: string[] } } } };
    assert.deepEqual(cfg.snapshot.transport.tls.trustBundle.map((s) => s.trim()), [newRoot]);
    const cached = JSON.parse(await readFile(join(dir.join(file === 'echo-1' ? 'echo' : 'web'), 'proxy-cache', `${file}.identity.json`), 'utf8')) as { chainPem: string; trustBundle: string[] };
    const chainFile = dir.join(`${file}.chain.pem`);
    await writeFile(chainFile, cached.chainPem);
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir.join('cp'), 'ca', 'ca.crt'), chainFile], { encoding: 'utf8' });
    assert.match(verify.stdout, /OK/, `${file}'s certificate chains to the new root: ${verify.stderr}`);
  }
  assert.deepEqual(await get(port), { status: 200, servedBy: 'app' });
});
