import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxySnapshotSchema, RouteFaultSchema } from '@weft/api/data-plane';
import { errorResponse } from '../errors/rescue.js';
import { routeOutbound } from '../outbound/resolve.js';
import { seededRandom } from '../resilience/clock.js';
import { PathRouteRequest } from '../routing/route-request.js';
import { RoutingTable } from '../routing/routing-table.js';
import { planFault } from './fault-plan.js';
import { faultFor } from './inject.js';

const hop = { direction: 'outbound' as const, proxy: 'client.default', service: 'svc.default', route: 'r' };

test('a 50% abort aborts about half of the requests (seeded: the same count on every machine)', () => {
  const fault = RouteFaultSchema.parse({ policy: 'default/f', abort: { httpStatus: 503, percentage: 50 } });
  const random = seededRandom(42);
  const n = 10_000;
  let aborted = 0;
  for (let i = 0; i < n; i++) if (planFault(fault, random, hop).abort !== undefined) aborted++;
  // Binomial(10000, 0.5): 5 standard deviations are 250.
  assert.ok(aborted > 4750 && aborted < 5250, `${aborted} of ${n}`);
});

test('fractional shares, 0 and 100', () => {
  const random = seededRandom(7);
  const count = (percentage: number): number => {
    const fault = RouteFaultSchema.parse({ policy: 'default/f', delay: { fixedDelayMs: 5, percentage } });
    let n = 0;
    for (let i = 0; i < 100_000; i++) if (planFault(fault, random, hop).delayMs > 0) n++;
    return n;
  };
  assert.equal(count(0), 0);
  assert.equal(count(100), 100_000);
  const tenth = count(0.1);
  assert.ok(tenth > 60 && tenth < 140, `0.1% of 100000: ${tenth}`);
});

test('delay and abort are drawn apart: a request may be delayed and then aborted', () => {
  const fault = RouteFaultSchema.parse({ policy: 'default/f', delay: { fixedDelayMs: 250 }, abort: { grpcStatus: 'UNAVAILABLE' } });
  const plan = planFault(fault, seededRandom(1), hop);
  assert.equal(plan.delayMs, 250);
  assert.ok(plan.abort !== undefined);
});

test('aborts render the policy status: HTTP as given, gRPC by name, and the HTTP mapping for the other', () => {
  const render = (abort: object) => {
    const plan = planFault(RouteFaultSchema.parse({ policy: 'default/f', abort }), seededRandom(1), hop);
    assert.ok(plan.abort !== undefined);
    return errorResponse(plan.abort.code, plan.abort.message, plan.abort.hop, plan.abort.extras);
  };
  const http = render({ httpStatus: 418 });
  assert.equal(http.status, 418);
  assert.equal(http.flag, 'FI');
  assert.match(http.header, /^WEFT_ERR_PROXY_FAULT_ABORT \(FI\) at outbound proxy=client\.default service=svc\.default route=r: FaultPolicy default\/f aborted the request with HTTP 418/);
  assert.equal(render({ httpStatus: 503 }).grpcStatus, 14, 'a gRPC call to an HTTP 503 abort gets UNAVAILABLE');
  const grpc = render({ grpcStatus: 'RESOURCE_EXHAUSTED' });
  assert.equal(grpc.grpcStatus, 8);
  assert.equal(grpc.status, 503, 'a plain HTTP request to a gRPC-only abort gets 503');
  assert.equal(render({ grpcStatus: 'CANCELLED' }).grpcStatus, 1);
  assert.equal(render({ grpcStatus: 'UNAUTHENTICATED' }).grpcStatus, 16);
});

test('bad faults are refused by the snapshot schema', () => {
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p' }).success, false, 'neither delay nor abort');
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', abort: { httpStatus: 503, grpcStatus: 'INTERNAL' } }).success, false, 'both statuses');
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', abort: {} }).success, false, 'no status');
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', abort: { httpStatus: 199 } }).success, false);
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', delay: { fixedDelayMs: 0 } }).success, false);
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', delay: { fixedDelayMs: 10, percentage: 101 } }).success, false);
  assert.equal(RouteFaultSchema.safeParse({ policy: 'p', abort: { grpcStatus: 'OK' } }).success, false);
});

test('the fault found for a routed request is the one of the rule the routing table chose, named or not', () => {
  const snapshot = ProxySnapshotSchema.parse({
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'ProxySnapshot',
    routesVersion: 'r',
    endpointsVersion: 'e',
    services: [
      {
        name: 'svc',
        routes: [
          { matches: [{ path: { type: 'PathPrefix', value: '/a' } }], backendRefs: [{ service: 'svc.default' }], fault: { policy: 'default/on-a', abort: { httpStatus: 500 } } },
          { name: 'b', matches: [{ path: { type: 'PathPrefix', value: '/b' } }], backendRefs: [{ service: 'svc.default' }], fault: { policy: 'default/on-b', delay: { fixedDelayMs: 5 } } },
          { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ service: 'svc.default' }] },
        ],
      },
    ],
    endpoints: { 'svc.default': [{ address: '127.0.0.1', port: 1 }] },
  });
  const table = new RoutingTable(snapshot, 'default');
  const policyOf = (path: string): string | undefined => {
    const req = new PathRouteRequest(path);
    return faultFor(snapshot, routeOutbound(table, 'client.default', 'svc.default', '', req), req)?.policy;
  };
  assert.equal(policyOf('/a/x'), 'default/on-a');
  assert.equal(policyOf('/b'), 'default/on-b');
  assert.equal(policyOf('/c'), undefined);
});
