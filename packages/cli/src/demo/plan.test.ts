import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseResource, ProxyBootstrapSchema } from '@weft/api';
import { buildMeshContext, compileProxySnapshot } from '@weft/control-plane';
import { ConfigValidationError, parseDocument } from '@weft/core';
import { DemoMeshSchema, loadDemoMesh } from './mesh-config.js';
import { demoPaths, planMesh, portsNeeded, tokenFile } from './plan.js';

const MESH_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../examples/demo/mesh.yaml');

test('the demo mesh becomes valid resources: web calls catalog and reviews, reviews is a 90/10 canary, every sidecar joins with its token', async () => {
  const mesh = await loadDemoMesh(MESH_FILE);
  const ports = Array.from({ length: portsNeeded(mesh) }, (_, i) => 20000 + i);
  const paths = demoPaths('/tmp/demo');
  const plan = planMesh(mesh, ports, paths, '127.0.0.1:7701');

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

  // Every resource is valid, and compiles (with the sidecars registered as they will) to
  // the canary in web's snapshot.
  const resources = plan.resources.map((r) => parseResource(r));
  assert.deepEqual(
    resources.map((r) => `${r.kind}/${r.metadata.name}`),
    ['Service/ingress', 'Service/web', 'Service/catalog', 'Service/reviews', 'Service/ratings', 'Service/reviews-v1', 'Service/reviews-v2', 'HTTPRoute/reviews-canary'],
  );
  const workloads = plan.instances.map((i) => ({ name: i.name, namespace: 'default', service: i.service, address: '127.0.0.1', port: i.meshPort, labels: { ...i.labels }, appProtocol: 'http' as const, healthy: true, source: 'proxy' as const }));
  const ctx = buildMeshContext({ resources, workloads });
  const web = compileProxySnapshot(ctx, { type: 'hello', workload: 'web', service: 'web', namespace: 'default', address: '127.0.0.1', port: 1, appProtocol: 'http', labels: {}, upstreams: ['catalog'], allServices: true, proxyVersion: '0' });
  const reviews = web.services.find((s) => s.name === 'reviews');
  assert.deepEqual(
    reviews?.routes[0]?.backendRefs.map((b) => [b.service, b.weight, b.subset]),
    [
      ['reviews.default', 90, { version: 'v1' }],
      ['reviews.default', 10, { version: 'v2' }],
    ],
  );
  assert.deepEqual(web.endpoints['reviews.default']?.map((e) => e.labels), [{ version: 'v1' }, { version: 'v2' }]);
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

  const webSidecar = plan.sidecars.find((s) => s.name === 'web');
  assert.ok(webSidecar?.args.includes('--http-proxy-port'), 'web reaches reviews through HTTP_PROXY');
  assert.ok(webSidecar?.args.includes('catalog:0'), 'web reaches catalog through an explicit upstream listener');
  assert.equal(plan.ingress.args.includes('--port'), false, 'the ingress is client only');
  assert.deepEqual(plan.tokenServices, ['ingress', 'web', 'catalog', 'reviews', 'ratings']);
  const flagOf = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];
  for (const s of plan.sidecars) {
    assert.equal(flagOf(s.args, '--control-plane'), '127.0.0.1:7701');
    assert.equal(flagOf(s.args, '--token-file'), tokenFile(paths, s.service));
  }

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
