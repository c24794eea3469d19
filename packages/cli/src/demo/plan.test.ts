import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ProxyBootstrapSchema, ProxySnapshotSchema } from '@weft/api';
import { ConfigValidationError, parseDocument } from '@weft/core';
import { DemoMeshSchema, loadDemoMesh } from './mesh-config.js';
import { demoPaths, planMesh, portsNeeded } from './plan.js';

const MESH_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/demo/mesh.yaml');

test('the demo mesh compiles to valid snapshots: every sidecar knows whom it calls, reviews is a 90/10 canary', async () => {
  const mesh = await loadDemoMesh(MESH_FILE);
  const ports = Array.from({ length: portsNeeded(mesh) }, (_, i) => 20000 + i);
  const plan = planMesh(mesh, ports, demoPaths('/tmp/demo'));

  assert.deepEqual(
    plan.instances.map((i) => i.name),
    ['web', 'catalog', 'reviews-v1', 'reviews-v2', 'ratings'],
  );
  assert.deepEqual(
    plan.sidecars.map((s) => s.name),
    ['ingress', 'web', 'catalog', 'reviews-v1', 'reviews-v2', 'ratings'],
  );
  const meshPorts = new Set(plan.instances.map((i) => i.meshPort));
  assert.equal(meshPorts.size, plan.instances.length, 'every instance has its own mesh port');

  for (const s of plan.sidecars) {
    const snapshot = ProxySnapshotSchema.parse(s.snapshot);
    assert.equal(snapshot.transport.tls.mode, 'static', `${s.name}: TLS between sidecars`);
    for (const [key, endpoints] of Object.entries(snapshot.endpoints)) {
      for (const e of endpoints) assert.ok(meshPorts.has(e.port), `${s.name}: ${key} endpoints are mesh ports`);
    }
  }
  const web = plan.sidecars.find((s) => s.name === 'web');
  const webSnapshot = ProxySnapshotSchema.parse(web?.snapshot);
  const reviews = webSnapshot.services.find((s) => s.name === 'reviews');
  assert.deepEqual(
    reviews?.routes[0]?.backendRefs.map((b) => [b.service, b.weight, b.subset]),
    [
      ['reviews.default', 90, { version: 'v1' }],
      ['reviews.default', 10, { version: 'v2' }],
    ],
  );
  assert.deepEqual(webSnapshot.endpoints['reviews.default']?.map((e) => e.labels), [{ version: 'v1' }, { version: 'v2' }]);
  assert.deepEqual(plan.canaries, [
    {
      service: 'reviews',
      route: 'reviews-canary',
      backends: [
        { subset: { version: 'v1' }, weight: 90, percent: 90 },
        { subset: { version: 'v2' }, weight: 10, percent: 10 },
      ],
    },
  ]);
  assert.ok(web?.args.includes('--http-proxy-port'), 'web reaches reviews through HTTP_PROXY');
  assert.ok(web?.args.includes('catalog:0'), 'web reaches catalog through an explicit upstream listener');
  assert.equal(plan.ingress.args.includes('--port'), false, 'the ingress is client only');

  // The flags are what `weft proxy` accepts.
  const flag = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];
  for (const s of plan.sidecars) {
    ProxyBootstrapSchema.parse({
      service: flag(s.args, '--service'),
      port: s.args.includes('--port') ? Number(flag(s.args, '--port')) : 0,
      ...(s.args.includes('--app-port') ? { appPort: Number(flag(s.args, '--app-port')) } : {}),
    });
  }
});

test('mesh.yaml mistakes are named with their line and field', () => {
  const yaml = [
    'ingress: { to: web }',
    'services:',
    '  - name: web',
    '    calls: [{ service: nowhere, via: upstream }]',
    '    instances: [{ command: [node, web.mjs] }]',
  ].join('\n');
  assert.throws(
    () => parseDocument(DemoMeshSchema, yaml, 'mesh.yaml'),
    (err: unknown) => err instanceof ConfigValidationError && /mesh\.yaml:4:\d+: services\[0\]\.calls\[0\]\.service: no service "nowhere"/.test(err.message),
  );
});
