import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '@weft/core';
import { startControlPlane, type ControlPlane } from '@weft/control-plane';
import { createTmpDir, freePort, startWeft, type TmpDir } from '@weft/testing';

/**
 * `weft authz check` from sources against a control plane started in this process (memory
 * store, temp data dir) with policies applied by `weft apply`: allowed and denied requests,
 * the deciding policy and rule, the mesh default, exit codes, and bad input.
 */

const POLICIES = `apiVersion: weft.dev/v1alpha1
kind: Mesh
metadata: { name: default }
spec:
  trustDomain: example.org
  authorization: { defaultAction: DENY }
---
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: no-admin, namespace: shop }
spec:
  targetRef: { kind: Service, name: reviews }
  action: DENY
  rules:
    - to: [{ paths: ["/admin*"] }]
---
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: { name: frontend-reads, namespace: shop }
spec:
  targetRef: { kind: Service, name: reviews }
  rules:
    - from: [{ services: [frontend] }]
      to: [{ methods: [GET, HEAD] }]
    - from: [{ principals: ["spiffe://example.org/ns/jobs/sa/batch"] }]
      when: [{ header: x-tenant, values: [acme] }]
---
# Another Service of shop: no policy targets it, so the Mesh default (DENY) decides.
apiVersion: weft.dev/v1alpha1
kind: Service
metadata: { name: ratings, namespace: shop }
`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dir: TmpDir | undefined;
let cp: ControlPlane | undefined;
let env: Record<string, string | undefined> = {};

const weft = async (args: readonly string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> => {
  const p = startWeft(args, { env: { ...env, ...extraEnv } });
  const { code } = await p.exited;
  const text = (stream: 'stdout' | 'stderr'): string =>
    p.lines
      .filter((l) => l.stream === stream)
      .map((l) => `${l.text}\n`)
      .join('');
  return { code, stdout: text('stdout'), stderr: text('stderr') };
};

const check = (args: readonly string[]): Promise<Run> => weft(['authz', 'check', ...args]);

before(async () => {
  dir = await createTmpDir({ prefix: 'authz-cli' });
  cp = await startControlPlane({
    dataDir: dir.path,
    apiAddr: '127.0.0.1:0',
    streamAddr: '127.0.0.1:0',
    store: 'memory',
    logger: createLogger({ level: 'silent' }),
  });
  env = { WEFT_API: `http://127.0.0.1:${cp.apiPort}`, WEFT_DATA_DIR: dir.path, WEFT_ADMIN_TOKEN: undefined, WEFT_LOG_LEVEL: 'warn' };
  const file = dir.join('policies.yaml');
  await writeFile(file, POLICIES);
  const applied = await weft(['apply', '-f', file]);
  assert.equal(applied.code, 0, applied.stderr);
});

after(async () => {
  await cp?.close();
  await dir?.remove();
});

describe('weft authz check', { timeout: 120_000 }, () => {
  test('allowed: exit 0, with the deciding policy and rule', async () => {
    const r = await check(['--from', 'frontend.shop', '--to', 'reviews.shop', '--method', 'get', '--path', '/reviews/1?page=2']);
    assert.equal(r.code, 0, r.stderr);
    const [first, ...rest] = r.stdout.split('\n');
    assert.equal(first, 'allowed by AuthorizationPolicy shop/frontend-reads rules[0]');
    assert.match(rest.join('\n'), /request {3}GET \/reviews\/1\?page=2/);
    assert.match(rest.join('\n'), /from {6}frontend\.shop \(spiffe:\/\/example\.org\/ns\/shop\/sa\/frontend\)/);
    assert.match(rest.join('\n'), /policies {2}shop\/no-admin \(DENY\), shop\/frontend-reads \(ALLOW\); mesh default DENY/);
  });

  test('denied by a DENY policy: exit 1, naming it', async () => {
    const r = await check(['--from', 'frontend.shop', '--to', 'reviews.shop', '--path', '/admin/users']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^denied by AuthorizationPolicy shop\/no-admin rules\[0\] \(action DENY\)\n/);
  });

  test('denied because no ALLOW policy matched: another namespace, another method', async () => {
    const wrongNamespace = await check(['--from', 'frontend', '--to', 'reviews.shop']);
    assert.equal(wrongNamespace.code, 1);
    assert.match(wrongNamespace.stdout, /^denied: no ALLOW policy matched \(ALLOW policies that apply: shop\/frontend-reads\)/);
    assert.match(wrongNamespace.stdout, /spiffe:\/\/example\.org\/ns\/default\/sa\/frontend/, 'a bare service is in namespace default');
    const post = await check(['--from', 'frontend.shop', '--to', 'reviews.shop', '--method', 'POST']);
    assert.equal(post.code, 1);
  });

  test('header conditions: --header supplies them', async () => {
    const without = await check(['--from', 'batch.jobs', '--to', 'reviews.shop']);
    assert.equal(without.code, 1);
    const withHeader = await check(['--from', 'batch.jobs', '--to', 'reviews.shop', '--header', 'X-Tenant=acme']);
    assert.equal(withHeader.code, 0, withHeader.stdout);
    assert.match(withHeader.stdout, /^allowed by AuthorizationPolicy shop\/frontend-reads rules\[1\]/);
  });

  test('the mesh default decides where no policy applies; -o json', async () => {
    const r = await check(['--from', 'frontend.shop', '--to', 'ratings.shop', '-o', 'json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { allowed: boolean; basis: string; policy: string | null; rule: number | null; reason: string; policies: unknown[]; defaultAction: string };
    assert.deepEqual(
      { allowed: out.allowed, basis: out.basis, policy: out.policy, rule: out.rule, policies: out.policies, defaultAction: out.defaultAction },
      { allowed: false, basis: 'mesh-default', policy: null, rule: null, policies: [], defaultAction: 'DENY' },
    );
    assert.match(out.reason, /mesh default DENY/);
  });

  test('usage errors exit 2 and say what is expected', async () => {
    const missing = await check(['--from', 'frontend.shop']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--to/);
    const badService = await check(['--from', 'Front_End', '--to', 'reviews']);
    assert.equal(badService.code, 2);
    assert.match(badService.stderr, /SERVICE or SERVICE\.NAMESPACE/);
    const badHeader = await check(['--from', 'a', '--to', 'b', '--header', 'novalue']);
    assert.equal(badHeader.code, 2);
    assert.match(badHeader.stderr, /NAME=VALUE/);
    const badPath = await check(['--from', 'a', '--to', 'b', '--path', 'admin']);
    assert.equal(badPath.code, 2);
  });

  test('a control plane that cannot be reached exits 3, not 1 (which means denied)', async () => {
    const port = await freePort();
    const r = await weft(['authz', 'check', '--from', 'a', '--to', 'b'], { WEFT_API: `http://127.0.0.1:${port}` });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /^error WEFT_ERR_API_UNREACHABLE: /);
  });
});
