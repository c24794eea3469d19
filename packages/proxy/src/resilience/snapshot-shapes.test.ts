import assert from 'node:assert/strict';
import { test } from 'node:test';
// The policy schemas are not in the data-plane entry point until the proxy applies them;
// this test reads them from their file so that engines and schemas cannot drift apart.
import {
  DestinationPolicySnapshotSchema,
  RateLimitSnapshotSchema,
  RetryPolicySnapshotSchema,
  SnapshotHealthCheckSchema,
  SnapshotOutlierDetectionSchema,
} from '../../../api/src/snapshot-policies.js';
import { buildBalancer, DEFAULT_LOAD_BALANCER } from '../balancing/build-balancer.js';
import { makeEndpoints } from '../balancing/test-endpoints.js';
import { CircuitBreaker, DEFAULT_CONNECTION_POOL } from './circuit-breaker.js';
import { seededRandom } from './clock.js';
import { HealthChecker } from './health-checker.js';
import { OutlierDetector } from './outlier-detector.js';
import { RateLimiter } from './rate-limiter.js';
import { DEFAULT_RETRY_BUDGET, RetryBudget } from './retry-budget.js';
import { compileRetryPolicy } from './retry-policy.js';
import { VirtualClock } from './virtual-clock.js';

test('the snapshot\'s policy sections, defaults applied, are what the engines take', () => {
  const clock = new VirtualClock();
  const dest = DestinationPolicySnapshotSchema.parse({});
  assert.deepEqual(dest.connectionPool, DEFAULT_CONNECTION_POOL);
  assert.deepEqual(dest.retryBudget, DEFAULT_RETRY_BUDGET);
  assert.deepEqual(dest.loadBalancer, DEFAULT_LOAD_BALANCER);
  assert.equal(new CircuitBreaker(dest.connectionPool).remaining('requests'), 1024);
  assert.equal(new RetryBudget(dest.retryBudget, clock).remaining, 100);
  assert.ok(buildBalancer({ endpoints: makeEndpoints(3), loadBalancer: dest.loadBalancer, clock, random: seededRandom(1) }).balancer.pick());

  const outlier = SnapshotOutlierDetectionSchema.parse({ successRate: {} });
  assert.equal(new OutlierDetector(outlier, { clock }).spec.baseEjectionTimeMs, 30_000);
  const health = SnapshotHealthCheckSchema.parse({ type: 'HTTP' });
  assert.equal(new HealthChecker(health, () => Promise.resolve(true), { timer: clock }).spec.unhealthyThreshold, 3);

  const retry = compileRetryPolicy(RetryPolicySnapshotSchema.parse({ grpcStatuses: ['UNAVAILABLE'] }));
  assert.deepEqual([...retry.on], ['connect-failure', 'refused-stream']);
  assert.deepEqual(retry.backoff, { baseMs: 25, maxMs: 250 });
  assert.deepEqual([...retry.grpcStatuses], [14]);

  const rl = RateLimitSnapshotSchema.parse({ limits: [{ name: 'overall', tokens: 5, burst: 5 }] });
  const limiter = new RateLimiter(rl.limits, { clock, maxKeys: rl.maxKeys });
  assert.equal(limiter.check({ header: () => undefined, sourceIdentity: '' }).limits[0]?.intervalMs, 1000);
});
