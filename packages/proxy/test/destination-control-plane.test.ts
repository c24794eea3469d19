/**
 * DestinationPolicy and HTTPRoute `retry` through the real control plane, as a platform
 * engineer uses them: `weft control-plane`, two instances of Service `web` (each a `weft
 * proxy` joined with a token, in front of its own Node HTTP backend) and a calling proxy;
 * resources applied with `weft apply`. Without a policy the Mesh default (LEAST_REQUEST)
 * spreads calls over both instances; with outlier detection and retries on 503, an instance
 * whose backend always answers 503 is ejected and the calls that met it before are retried
 * onto the other, so the caller sees only 200s; the control plane stopped, the caller keeps
 * the policy and the ejection. Assertions are on counts and statuses; waits are bounded polls.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createTmpDir, freePort, startWeft } from '@weft/testing';
import { configOf, eventually, startControlPlaneProcess, startStreamProxy, type Started, type ProxyPorts } from './control-fixture.js';
import { metric, upstreamPortOf } from './http1-mesh-fixture.js';
import { hitsOf, startBackends, type Backend } from './labelled-backends.js';

/** A long ejection: the failing instance must stay out for the rest of the test. */
const POLICIES = `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: web
spec:
  ports:
    - name: http
      port: 80
      appProtocol: http
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs:
    - {group: "", kind: Service, name: web}
  rules:
    - backendRefs:
        - {name: web, port: 80}
      retry:
        codes: [503]
        attempts: 2
---
apiVersion: weft.dev/v1alpha1
kind: DestinationPolicy
metadata:
  name: web
spec:
  targetRef:
    kind: Service
    name: web
  outlierDetection:
    consecutive5xx: 2
    interval: 100ms
    baseEjectionTime: 120s
`;

/** What the caller's /config shows of Service web's policy and routes. */
interface CallerView {
  snapshot: {
    endpoints: Record<string, unknown[]>;
    destinations?: Record<string, { outlierDetection?: unknown }>;
    services?: { name: string; namespace?: string; routes?: { retry?: unknown }[] }[];
  };
  controlPlane: { connected: boolean };
}

test('DestinationPolicy outlier detection and HTTPRoute retry, applied through the control plane, keep every call 200 and hold with the control plane down', async (t) => {
  const dir = await createTmpDir({ prefix: 'dest-cp', t });
  const streamPort = await freePort();
  const cp = await startControlPlaneProcess(t, dir.join('cp'), streamPort);
  const [one, two] = (await startBackends(t, ['web-1', 'web-2'])) as [Backend, Backend];
  const instance = async (b: Backend): Promise<Started<ProxyPorts>> =>
    startStreamProxy(t, streamPort, ['--service', 'web', '--workload', b.name, '--app-port', String(b.port), '--data-dir', dir.join(b.name)], await cp.token('web'));
  await Promise.all([instance(one), instance(two)]);
  const client = await startStreamProxy(t, streamPort, ['--service', 'client', '--upstream', 'web:0', '--data-dir', dir.join('client')], await cp.token('client'));
  const port = upstreamPortOf(client, 'web');
  const view = async (): Promise<CallerView> => (await configOf(client)) as unknown as CallerView;

  /** `n` calls through the caller, one after another; their statuses, by count. */
  const calls = async (n: number): Promise<Record<string, number>> => {
    const statuses: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/hello`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    return statuses;
  };

  // 1. No DestinationPolicy: the Mesh default, LEAST_REQUEST, sends to both instances.
  await eventually('the caller knows both instances of web', async () => ((await view()).snapshot.endpoints['web.default'] ?? []).length === 2, 20_000);
  assert.deepEqual(await calls(30), { 200: 30 });
  assert.ok(one.hits > 0 && two.hits > 0, `both instances get traffic: ${JSON.stringify(hitsOf([one, two]))}`);

  // 2. `weft apply` of the Service, its HTTPRoute with retry and its DestinationPolicy.
  const apply = startWeft(['apply', '-f', '-'], {
    t,
    stdin: POLICIES,
    env: { WEFT_API: `http://127.0.0.1:${cp.ports.api}`, WEFT_DATA_DIR: dir.join('cp'), WEFT_ADMIN_TOKEN: undefined },
  });
  assert.equal((await apply.exited).code, 0, apply.output());
  await eventually('the caller runs the policy and the route retry', async () => {
    const s = (await view()).snapshot;
    const web = (s.services ?? []).find((x) => x.name === 'web');
    return s.destinations?.['web.default']?.outlierDetection !== undefined && (web?.routes ?? []).some((r) => r.retry !== undefined);
  });

  // One instance's backend fails every request from now on.
  two.status = 503;
  const before = { two: two.hits };
  const during = await calls(30);
  assert.deepEqual(during, { 200: 30 }, `every call is 200, those that met the failing instance retried: ${JSON.stringify(hitsOf([one, two]))}`);
  // Exactly two: the ejection comes at once on the second 503 in a row (no interval to
  // wait for), whether both came within one call's attempts or from two calls.
  const failedHits = two.hits - before.two;
  assert.equal(failedHits, 2, `the failing instance took consecutive5xx (2) attempts, then was ejected: ${JSON.stringify(hitsOf([one, two]))}`);
  assert.deepEqual(await calls(20), { 200: 20 });
  assert.equal(two.hits - before.two, 2, 'the ejected instance gets no more requests');

  // The policy's status: Accepted, applied by the callers.
  const adminToken = (await readFile(dir.join('cp', 'admin-token'), 'utf8')).trim();
  const res = await fetch(`http://127.0.0.1:${cp.ports.api}/api/v1/destinationpolicies/default/web`, { headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(res.status, 200);
  const policy = (await res.json()) as { status?: { conditions?: { type: string; status: string; message: string }[] } };
  const accepted = policy.status?.conditions?.find((c) => c.type === 'Accepted');
  assert.equal(accepted?.status, 'True', JSON.stringify(policy.status));
  assert.match(accepted?.message ?? '', /applied by the proxies that call Service default\/web/);
  assert.doesNotMatch(accepted?.message ?? '', /not applied/);

  // The caller's metrics: the ejection, and the retries it made.
  const metrics = await (await fetch(`http://127.0.0.1:${client.ports.admin}/metrics`)).text();
  assert.ok((metric(metrics, 'weft_proxy_outlier_ejections_total', { service: 'web.default' }) ?? 0) >= 1, metrics);
  assert.ok((metric(metrics, 'weft_proxy_retries_total', { service: 'web.default' }) ?? 0) > 0, metrics);
  // Each attempt that met the failing instance was retried, on its status.
  assert.equal(metric(metrics, 'weft_proxy_retries_total', { service: 'web.default', reason: '503' }), failedHits, metrics);
  assert.equal(metric(metrics, 'weft_proxy_ejected_endpoints', { service: 'web.default' }), 1, metrics);

  // 3. The control plane stops: the caller keeps the same policies, the ejection included.
  assert.equal(await cp.proc.stop('SIGTERM'), 0);
  await eventually('the caller sees the stream down', async () => !(await view()).controlPlane.connected);
  assert.deepEqual(await calls(20), { 200: 20 });
  assert.equal(two.hits - before.two, 2, 'still ejected with the control plane down');
  const later = await (await fetch(`http://127.0.0.1:${client.ports.admin}/metrics`)).text();
  assert.equal(metric(later, 'weft_proxy_ejected_endpoints', { service: 'web.default' }), 1, later);
});
