import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LimitsSchema } from '@weft/api/data-plane';
import { routeLimits } from './route-limits.js';

const limits = Object.freeze(LimitsSchema.parse({ responseTimeoutMs: 2000 }));

test('a rule that sets no timeout shares the snapshot limits object', () => {
  assert.equal(routeLimits(limits, undefined), limits);
  assert.equal(routeLimits(limits, {}), limits);
});

test('an attempt waits the smaller of backendRequestMs and requestMs', () => {
  assert.equal(routeLimits(limits, { requestMs: 300 }).responseTimeoutMs, 300);
  assert.equal(routeLimits(limits, { requestMs: 5000, backendRequestMs: 700 }).responseTimeoutMs, 700);
  assert.equal(routeLimits(limits, { backendRequestMs: 900 }).responseTimeoutMs, 900);
  assert.equal(routeLimits(limits, { requestMs: 0, backendRequestMs: 900 }).responseTimeoutMs, 900, 'requestMs 0 is no request deadline');
  const r = routeLimits(limits, { requestMs: 300 });
  assert.equal(r.connectTimeoutMs, limits.connectTimeoutMs, 'the other limits are the snapshot\'s');
  assert.ok(Object.isFrozen(r));
});

test('timeouts all 0 disable the proxy-wide response timeout too; the same value reuses the snapshot object', () => {
  assert.equal(routeLimits(limits, { requestMs: 0 }).responseTimeoutMs, 0);
  assert.equal(routeLimits(limits, { requestMs: 0, backendRequestMs: 0 }).responseTimeoutMs, 0);
  assert.equal(routeLimits(limits, { requestMs: 2000 }), limits);
});
