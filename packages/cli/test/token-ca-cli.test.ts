import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readJoinToken } from '@weft/api';
import type { FastifyInstance } from 'fastify';
// The control plane is not loaded by these commands (they talk to it over HTTP); the test
// starts one in-process from its sources: REST API, CA and join tokens on a file store.
import { createApiServer } from '../../control-plane/src/api/index.js';
import { registerCaRoutes } from '../../control-plane/src/api/ca-routes.js';
import { loadOrCreateAdminToken } from '../../control-plane/src/auth/index.js';
import { CertificateAuthority, JoinTokens } from '../../control-plane/src/ca/index.js';
import { ResourceManager } from '../../control-plane/src/manager/index.js';
import { FileStore, type Store } from '../../control-plane/src/store/index.js';

/** `weft token` and `weft ca` from sources, as a user runs them, against a real REST API. */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CLI_MAIN = join(REPO, 'packages/cli/src/main.ts');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir = '';
let base = '';
let store: Store;
let app: FastifyInstance;
let ca: CertificateAuthority;
let tokens: JoinTokens;

const weft = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=weft-source', '--import', 'tsx', CLI_MAIN, ...args], {
      cwd: REPO,
      env: { ...process.env, WEFT_API: base, WEFT_DATA_DIR: dir, WEFT_ADMIN_TOKEN: '', WEFT_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });

describe('weft token / weft ca', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cli-ca-'));
    store = await FileStore.open({ dir: join(dir, 'store') });
    const { token } = await loadOrCreateAdminToken(dir);
    ca = await CertificateAuthority.open({ dataDir: dir, trustDomain: 'example.org' });
    tokens = await JoinTokens.open({ dataDir: dir, store, ca });
    app = createApiServer({
      manager: new ResourceManager({ store }),
      adminToken: token,
      extraRoutes: (root) => registerCaRoutes(root, { ca, tokens, adminToken: token }),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    assert.ok(addr !== null && typeof addr === 'object');
    base = `http://127.0.0.1:${addr.port}`;
  });

  after(async () => {
    await app.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('token create prints the token alone on stdout and what it is on stderr', async () => {
    const r = await weft(['token', 'create', '--service', 'reviews']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^weft1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\n$/, 'stdout is the token and a newline, nothing else');
    const token = r.stdout.trim();
    const parsed = readJoinToken(token);
    assert.ok(parsed.ok);
    assert.equal(parsed.token.payload.svc, 'reviews');
    assert.equal(parsed.token.payload.ns, 'default');
    assert.equal(parsed.token.payload.ca, ca.pinnedCaHash);
    assert.match(r.stderr, new RegExp(`join token ${parsed.token.payload.id} for service reviews in namespace default: reusable until`));
    assert.ok(!r.stderr.includes(token), 'the token is not repeated on stderr');
    const ttl = parsed.token.payload.exp * 1000 - Date.now();
    assert.ok(ttl > 3500_000 && ttl <= 3600_000, 'default ttl 1h');
    // The control plane accepts it for that service.
    await tokens.verify(token, { service: 'reviews', namespace: 'default' });
  });

  test('token create --namespace --ttl --single-use', async () => {
    const r = await weft(['token', 'create', '--service', 'ratings', '-n', 'shop', '--ttl', '24h', '--single-use']);
    assert.equal(r.code, 0, r.stderr);
    const parsed = readJoinToken(r.stdout.trim());
    assert.ok(parsed.ok);
    assert.equal(parsed.token.payload.ns, 'shop');
    assert.equal(parsed.token.payload.once, true);
    assert.ok(Math.abs(parsed.token.payload.exp * 1000 - Date.now() - 24 * 3600_000) < 60_000);
    assert.match(r.stderr, /admits one join until/);
  });

  test('token create refuses bad input before or at the API, with exit 1 or 2', async () => {
    const missing = await weft(['token', 'create']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--service/);
    const badTtl = await weft(['token', 'create', '--service', 'reviews', '--ttl', '1d']);
    assert.equal(badTtl.code, 1);
    assert.match(badTtl.stderr, /error WEFT_ERR_CONFIG_INVALID: --ttl 1d/);
    const longTtl = await weft(['token', 'create', '--service', 'reviews', '--ttl', '3000h']);
    assert.equal(longTtl.code, 1);
    assert.match(longTtl.stderr, /error WEFT_ERR_API_BAD_REQUEST: body\.ttl: must be at most 2160h/);
    const badName = await weft(['token', 'create', '--service', 'Reviews']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /WEFT_ERR_CONFIG_INVALID: --service "Reviews"/);
    for (const r of [missing, badTtl, longTtl, badName]) assert.equal(r.stdout, '', 'nothing on stdout: $(...) gets no half answer');
  });

  test('token list shows ids and states, never tokens; revoke revokes', async () => {
    const created = await weft(['token', 'create', '--service', 'details']);
    const token = created.stdout.trim();
    const parsed = readJoinToken(token);
    assert.ok(parsed.ok);
    const id = parsed.token.payload.id;

    const list = await weft(['token', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+SERVICE\s+NAMESPACE\s+USE\s+STATE\s+EXPIRES\s+AGE\n/);
    assert.match(list.stdout, new RegExp(`${id}\\s+details\\s+default\\s+reusable\\s+active`));
    assert.doesNotMatch(list.stdout, /weft1\./);

    const revoked = await weft(['token', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `join token ${id} revoked (service details in namespace default)\n`);
    await assert.rejects(tokens.verify(token, { service: 'details', namespace: 'default' }), (err: Error & { code?: string }) => err.code === 'WEFT_ERR_TOKEN_REVOKED');

    const json = await weft(['token', 'list', '-o', 'json']);
    const items = (JSON.parse(json.stdout) as { items: { id: string; state: string }[] }).items;
    assert.equal(items.find((i) => i.id === id)?.state, 'revoked');

    const unknown = await weft(['token', 'revoke', '0123456789abcdef']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /error WEFT_ERR_TOKEN_NOT_FOUND: no join token "0123456789abcdef"/);
  });

  test('ca show: hash, bundle, phase, expiries; --bundle prints PEM alone; -o json', async () => {
    const r = await weft(['ca', 'show']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mode:\s+self-managed$/m);
    assert.match(r.stdout, /^trust domain:\s+example\.org$/m);
    assert.ok(r.stdout.includes(`CA hash:       ${ca.caHash}\n`));
    assert.match(r.stdout, /^rotation:\s+idle/m);
    assert.match(r.stdout, /ROLE\s+SUBJECT\s+CA HASH\s+SIGNING\s+EXPIRES\s+DAYS LEFT\nroot\s+CN=Weft Root CA example\.org\s+sha256:[0-9a-f]{16}…\s+yes\s+\S+\s+36\d\d\n/);
    const bundle = await weft(['ca', 'show', '--bundle']);
    assert.equal(bundle.stdout, ca.trustBundle.join(''));
    assert.equal(new X509Certificate(bundle.stdout).subject, 'CN=Weft Root CA example.org');
    const json = JSON.parse((await weft(['ca', 'show', '-o', 'json'])).stdout) as { caHash: string; rotation: { phase: string } };
    assert.equal(json.caHash, ca.caHash);
    assert.equal(json.rotation.phase, 'idle');
  });

  test('ca rotate --step: each step in order, hints on stderr; out of order is an error', async () => {
    const first = ca.caHash;
    const outOfOrder = await weft(['ca', 'rotate', '--step', 'retire']);
    assert.equal(outOfOrder.code, 1);
    assert.match(outOfOrder.stderr, /error WEFT_ERR_CA_ROTATION_ORDER: no rotation in progress/);

    const introduce = await weft(['ca', 'rotate', '--step', 'introduce']);
    assert.equal(introduce.code, 0, introduce.stderr);
    assert.match(introduce.stdout, /^rotation: introduced\n {2}root sha256:[0-9a-f]{64} \(signing\), until .*\n {2}root sha256:[0-9a-f]{64}, until .*\n$/);
    assert.match(introduce.stderr, /weft ca rotate --step activate/);
    assert.match((await weft(['ca', 'show'])).stdout, /trust bundle:\s+2 roots/);

    const activate = await weft(['ca', 'rotate', '--step', 'activate']);
    assert.match(activate.stdout, /^rotation: activated/);
    assert.match(activate.stderr, /weft ca rotate --step retire/);
    const retire = await weft(['ca', 'rotate', '--step', 'retire']);
    assert.equal(retire.code, 0, retire.stderr);
    assert.match(retire.stdout, /^rotation: idle\n {2}root sha256:[0-9a-f]{64} \(signing\), until .*\n$/);
    assert.notEqual(ca.caHash, first);

    // Without --step, the whole rotation (tested against proxies in packages/proxy/test/mesh-identity.test.ts);
    // its wait must be a positive number of ms.
    const badWait = await weft(['ca', 'rotate', '--wait', 'soon']);
    assert.equal(badWait.code, 1);
    assert.match(badWait.stderr, /--wait soon: must be a positive number of ms/);
    const badStep = await weft(['ca', 'rotate', '--step', 'everything']);
    assert.equal(badStep.code, 2);
    assert.match(badStep.stderr, /introduce, activate, retire/);
  });

  test('without the admin token, or with the control plane away, the commands say so', async () => {
    const wrong = await weft(['token', 'list'], { WEFT_ADMIN_TOKEN: 'wrong-wrong-wrong-wrong' });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /error WEFT_ERR_API_UNAUTHORIZED/);
    const away = await weft(['ca', 'show'], { WEFT_API: 'http://127.0.0.1:9' });
    assert.equal(away.code, 1);
    assert.match(away.stderr, /error WEFT_ERR_API_UNREACHABLE: cannot reach the control plane at http:\/\/127\.0\.0\.1:9/);
  });
});
