import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { FastifyInstance } from 'fastify';
// The control plane is not a dependency of the CLI (the CLI talks to it over HTTP); the test
// starts one in-process from its sources.
import { createApiServer } from '../../control-plane/src/api/index.js';
import { loadOrCreateAdminToken } from '../../control-plane/src/auth/index.js';
import { ResourceManager } from '../../control-plane/src/manager/index.js';
import { FileStore, type Store } from '../../control-plane/src/store/index.js';

/**
 * `weft apply`, `get`, `delete` and `validate` from sources, as a user runs them, against a
 * REST API started in this process on a file store in a temp dir; the CLI finds the admin
 * token where the control plane wrote it (`WEFT_DATA_DIR`).
 */

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

const weft = (args: readonly string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<Run> =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--conditions=weft-source', '--import', 'tsx', CLI_MAIN, ...args], {
      cwd: REPO,
      env: { ...process.env, WEFT_API: base, WEFT_DATA_DIR: dir, WEFT_ADMIN_TOKEN: '', WEFT_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });

const names = async (kind: string): Promise<string[]> => (await store.list({ kind })).items.map((i) => `${i.key.namespace}/${i.key.name}`);

const file = async (name: string, text: string): Promise<string> => {
  const p = join(dir, name);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, text);
  return p;
};

const MESH = `# the bookstore's reviews
apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews
spec:
  ports:
    - port: 9080
---
apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews-v2
spec:
  subsetOf:
    service: reviews
    labels: {version: v2}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
    - {group: "", kind: Service, name: reviews}
  rules:
    - backendRefs:
        - {name: reviews, port: 9080, weight: 90}
        - {name: reviews-v2, port: 9080, weight: 10}
`;

const BAD = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: fine-but-not-alone
spec:
  ports:
    - port: 80
---
apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: broken
spec:
  ports:
    - port: 99999
      colour: red
`;

const snapshot = async (): Promise<unknown> => (await store.list()).items.map((i) => [i.key, i.modRevision]);

describe('weft apply / get / delete / validate', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cli-'));
    store = await FileStore.open({ dir: join(dir, 'store') });
    const { token } = await loadOrCreateAdminToken(dir);
    app = createApiServer({ manager: new ResourceManager({ store, refreshDependents: true }), adminToken: token });
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

  test('apply of a multi-document file creates each resource; again, nothing changes', async () => {
    const path = await file('mesh.yaml', MESH);
    const first = await weft(['apply', '-f', path]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, 'service default/reviews created\nservice default/reviews-v2 created\nhttproute default/reviews created\n');
    assert.deepEqual(await names('Service'), ['default/reviews', 'default/reviews-v2']);
    const again = await weft(['apply', '-f', path]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /httproute default\/reviews unchanged/);
  });

  test('get prints a table, -o wide more columns, -o yaml and -o json the resources', async () => {
    const table = await weft(['get', 'svc']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^NAMESPACE\s+NAME\s+PORTS\s+SUBSET-OF\s+ACCEPTED\s+AGE$/);
    assert.match(rows[0] ?? '', /^default\s+reviews\s+9080\/http\s+<none>\s+True\s+\d+s$/);
    assert.match(rows[1] ?? '', /^default\s+reviews-v2\s+<none>\s+reviews\{version=v2\}\s+True/);
    const wide = await weft(['get', 'httproutes', '-o', 'wide']);
    assert.match(wide.stdout, /BACKENDS.*RESOLVED/);
    assert.match(wide.stdout, /reviews:90,reviews-v2:10\s+True\s+True\s+Accepted/);
    const yaml = await weft(['get', 'hr', 'reviews', '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.stderr);
    const doc = parseYaml(yaml.stdout) as { kind: string; metadata: { resourceVersion: string; generation: number }; status: { conditions: { type: string; status: string }[] } };
    assert.equal(doc.kind, 'HTTPRoute');
    assert.equal(doc.metadata.generation, 1);
    assert.deepEqual(doc.status.conditions.map((c) => [c.type, c.status]), [['Accepted', 'True'], ['ResolvedRefs', 'True']]);
    const json = await weft(['get', 'services', '-A', '-o', 'json']);
    const list = JSON.parse(json.stdout) as { kind: string; items: { metadata: { name: string } }[] };
    assert.equal(list.kind, 'List');
    assert.deepEqual(list.items.map((i) => i.metadata.name), ['reviews', 'reviews-v2']);
    const many = await weft(['get', 'svc', '-o', 'yaml']);
    assert.equal(parseAllDocuments(many.stdout).length, 2, 'a list as YAML is one document per resource');
    const none = await weft(['get', 'faultpolicies', '-n', 'shop']);
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'No resources found in shop namespace.\n']);
    const unknown = await weft(['get', 'gadgets']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown resource type "gadgets"; known: meshes, services\/svc/);
  });

  test('the YAML of get, edited, applies back from stdin; a stale copy is refused with 409', async () => {
    const { stdout } = await weft(['get', 'hr', 'reviews', '-o', 'yaml']);
    const edited = stdout.replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50');
    const applied = await weft(['apply', '-f', '-'], { stdin: edited });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, 'httproute default/reviews configured\n');
    const before = await snapshot();
    const stale = await weft(['apply', '-f', '-'], { stdin: stdout });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^<stdin>:\d+: error WEFT_ERR_STORE_CONFLICT: HTTPRoute default\/reviews: metadata\.resourceVersion \d+ is stale/);
    assert.deepEqual(await snapshot(), before);
  });

  test('a bad file applies nothing, and the errors name file, line, field and rule', async () => {
    const path = await file('bad.yaml', BAD);
    const before = await snapshot();
    const r = await weft(['apply', '-f', path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `${path}:15:13: spec.ports[0].port: must be a port from 1 to 65535\n${path}:16:7: spec.ports[0].colour: Unrecognized key: "colour"\n${path}: invalid, nothing applied\n`,
    );
    assert.deepEqual(await snapshot(), before);
    assert.ok(!(await names('Service')).includes('default/fine-but-not-alone'));
  });

  test('a directory applies each *.yaml/*.yml/*.json file in name order, each all or nothing', async () => {
    await file('dir/10-good.yaml', 'apiVersion: weft.dev/v1alpha1\nkind: Service\nmetadata: {name: ratings}\nspec: {ports: [{port: 9080}]}\n');
    await file('dir/20-bad.yml', BAD);
    await file('dir/30-good.json', JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'Service', metadata: { name: 'details' }, spec: { ports: [{ port: 9080 }] } }));
    await file('dir/notes.txt', 'not a resource');
    const r = await weft(['apply', '-f', join(dir, 'dir')]);
    assert.equal(r.code, 1, 'one file failed');
    assert.equal(r.stdout, 'service default/ratings created\nservice default/details created\n');
    assert.match(r.stderr, /20-bad\.yml:15:13: spec\.ports\[0\]\.port/);
    assert.ok(!(await names('Service')).includes('default/fine-but-not-alone'));
  });

  test('validate works offline and exits 1 on any invalid document', async () => {
    const offline = { WEFT_API: 'http://127.0.0.1:9', WEFT_DATA_DIR: join(dir, 'nowhere') };
    const badPath = await file('validate/bad.yaml', BAD);
    const goodPath = await file('validate/mesh.yaml', MESH);
    const bad = await weft(['validate', '-f', badPath], { env: offline });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.yaml:15:13: spec\.ports\[0\]\.port: must be a port from 1 to 65535\n/);
    assert.match(bad.stderr, /bad\.yaml: invalid, nothing would be applied\n$/);
    const good = await weft(['validate', '-f', goodPath, '-f', '-'], { env: offline, stdin: 'apiVersion: weft.dev/v1alpha1\nkind: Mesh\nmetadata: {name: default}\n' });
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, `${goodPath}: 3 resources valid\n<stdin>: 1 resource valid\n`);
    const dup = await weft(['validate', '-f', '-'], { env: offline, stdin: `${MESH}---\n${MESH.split('---')[0] ?? ''}` });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /<stdin>:\d+:1: metadata\.name: Service default\/reviews is also defined at line 2/);
  });

  test('delete removes a resource; deleting it again is an error', async () => {
    const r = await weft(['delete', 'svc', 'details']);
    assert.deepEqual([r.code, r.stdout], [0, 'service default/details deleted\n']);
    const again = await weft(['delete', 'svc', 'details']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /error WEFT_ERR_API_NOT_FOUND: Service default\/details not found/);
  });

  test('an unreachable control plane, a wrong token or no token: a clear message, exit 1, nothing changed', async () => {
    const port = await new Promise<number>((done) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => done(typeof a === 'object' && a !== null ? a.port : 0));
      });
    });
    const unreachable = await weft(['get', 'svc'], { env: { WEFT_API: `http://127.0.0.1:${port}` } });
    assert.equal(unreachable.code, 1);
    assert.equal(unreachable.stderr, `error WEFT_ERR_API_UNREACHABLE: cannot reach the control plane at http://127.0.0.1:${port}: ECONNREFUSED — is \`weft control-plane\` running? (set --api or WEFT_API to its address)\n`);
    const before = await snapshot();
    const wrong = await weft(['apply', '-f', join(dir, 'mesh.yaml')], { env: { WEFT_ADMIN_TOKEN: 'not-the-token' } });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /error WEFT_ERR_API_UNAUTHORIZED: the admin token is wrong/);
    const missing = await weft(['delete', 'hr', 'reviews', '--data-dir', join(dir, 'nowhere')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no admin token: WEFT_ADMIN_TOKEN is not set and .*nowhere\/admin-token cannot be read \(ENOENT\)/);
    assert.deepEqual(await snapshot(), before);
  });
});
