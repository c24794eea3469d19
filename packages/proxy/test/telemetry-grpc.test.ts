import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { ProxyBootstrapSchema, type ProxySnapshotInput } from '@weft/api';
import { createLogger } from '@weft/core';
import { startSidecar, type Sidecar } from '@weft/proxy';
import { createTmpDir, grpcEchoClient, startGrpcEcho } from '@weft/testing';

/**
 * gRPC calls through two sidecars are counted as Istio counts them: request_protocol
 * "grpc" and the call's grpc-status, by both reporters, including calls that fail.
 */

const logger = createLogger({ level: 'silent' });

const snapshotYaml = (input: ProxySnapshotInput): string => JSON.stringify(input);

const scrape = async (sidecar: Sidecar): Promise<string> => {
  const res = await fetch(`http://127.0.0.1:${sidecar.admin?.port ?? 0}/metrics`);
  return res.text();
};

/** Sum of istio_requests_total samples whose labels include every `want` pair. */
const count = (text: string, want: Record<string, string>): number =>
  text
    .split('\n')
    .filter((l) => l.startsWith('istio_requests_total{') && Object.entries(want).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

test('gRPC calls are recorded with request_protocol and grpc_response_status by both reporters', { timeout: 30_000 }, async (t) => {
  const dir = await createTmpDir({ prefix: 'grpc-metrics', t });
  const app = await startGrpcEcho({ name: 'app' });
  t.after(app.close);
  const base = { apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'r1', endpointsVersion: 'e1' } as const;
  await writeFile(dir.join('inbound.json'), snapshotYaml(base));
  const inbound = await startSidecar({
    bootstrap: ProxyBootstrapSchema.parse({ service: 'echo', appPort: app.port, appProtocol: 'grpc' }),
    configFile: dir.join('inbound.json'),
    logger,
  });
  t.after(() => inbound.stop());
  await writeFile(
    dir.join('outbound.json'),
    snapshotYaml({
      ...base,
      services: [{ name: 'echo', ports: [{ port: 50051, protocol: 'grpc' }] }],
      endpoints: { 'echo.default': [{ address: '127.0.0.1', port: inbound.proxy.ports.inbound ?? 0 }] },
    }),
  );
  const outbound = await startSidecar({
    bootstrap: ProxyBootstrapSchema.parse({ service: 'client', upstreams: [{ service: 'echo', port: 0 }] }),
    configFile: dir.join('outbound.json'),
    logger,
  });
  t.after(() => outbound.stop());
  const client = grpcEchoClient(`127.0.0.1:${outbound.proxy.ports.upstreams['echo'] ?? 0}`);
  t.after(() => client.close());

  for (let i = 0; i < 3; i++) assert.equal((await client.unary({ message: `ok${i}` })).code, status.OK);
  const failed = await client.unary({ message: 'x', failWithCode: status.NOT_FOUND });
  assert.equal(failed.code, status.NOT_FOUND);

  // Telemetry is recorded when a stream closes, just after the client has its answer.
  const deadline = Date.now() + 5_000;
  let out = '';
  let inn = '';
  while (Date.now() < deadline) {
    [out, inn] = await Promise.all([scrape(outbound), scrape(inbound)]);
    if (count(out, { grpc_response_status: '5' }) === 1 && count(inn, { grpc_response_status: '5' }) === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const source = { reporter: 'source', request_protocol: 'grpc', destination_service: 'echo.default', response_code: '200' };
  assert.equal(count(out, { ...source, grpc_response_status: '0' }), 3, out);
  assert.equal(count(out, { ...source, grpc_response_status: '5' }), 1);
  const destination = { reporter: 'destination', request_protocol: 'grpc', response_code: '200' };
  assert.equal(count(inn, { ...destination, grpc_response_status: '0' }), 3, inn);
  assert.equal(count(inn, { ...destination, grpc_response_status: '5' }), 1);
  assert.equal(count(out, { request_protocol: 'http' }), 0, 'no gRPC call is counted as plain HTTP');
});

test('a gRPC call the proxy fails is recorded with its flag and the gRPC status it answered', { timeout: 30_000 }, async (t) => {
  const dir = await createTmpDir({ prefix: 'grpc-metrics-fail', t });
  await writeFile(
    dir.join('outbound.json'),
    snapshotYaml({
      apiVersion: 'weft.dev/v1alpha1',
      kind: 'ProxySnapshot',
      routesVersion: 'r1',
      endpointsVersion: 'e1',
      services: [{ name: 'echo', ports: [{ port: 50051, protocol: 'grpc' }] }],
      endpoints: { 'echo.default': [] },
    }),
  );
  const outbound = await startSidecar({
    bootstrap: ProxyBootstrapSchema.parse({ service: 'client', upstreams: [{ service: 'echo', port: 0 }] }),
    configFile: dir.join('outbound.json'),
    logger,
  });
  t.after(() => outbound.stop());
  const client = grpcEchoClient(`127.0.0.1:${outbound.proxy.ports.upstreams['echo'] ?? 0}`);
  t.after(() => client.close());
  assert.equal((await client.unary({ message: 'x' })).code, status.UNAVAILABLE);
  const deadline = Date.now() + 5_000;
  let out = '';
  while (Date.now() < deadline) {
    out = await scrape(outbound);
    if (count(out, { response_flags: 'UH' }) === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(count(out, { request_protocol: 'grpc', response_flags: 'UH', grpc_response_status: '14', response_code: '200' }), 1, out);
});
