import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker, DEFAULT_CONNECTION_POOL, type BreakerLease } from './circuit-breaker.js';

const leases = (b: CircuitBreaker, resource: 'requests' | 'pendingRequests' | 'connections' | 'retries', n: number): BreakerLease[] => {
  const out: BreakerLease[] = [];
  for (let i = 0; i < n; i++) {
    const r = b.tryAcquire(resource);
    assert.ok(r.ok, `acquisition ${i + 1} of ${n}`);
    out.push(r.lease);
  }
  return out;
};

test('exactly the limit is admitted, the next overflows and names its limit', () => {
  const b = new CircuitBreaker({ maxConnections: 2, maxPendingRequests: 1, maxRequests: 3, maxRetries: 1 });
  leases(b, 'requests', 3);
  assert.deepEqual(b.tryAcquire('requests'), { ok: false, overflow: 'maxRequests' });
  leases(b, 'pendingRequests', 1);
  assert.deepEqual(b.tryAcquire('pendingRequests'), { ok: false, overflow: 'maxPendingRequests' });
  leases(b, 'connections', 2);
  assert.deepEqual(b.tryAcquire('connections'), { ok: false, overflow: 'maxConnections' });
  leases(b, 'retries', 1);
  assert.deepEqual(b.tryAcquire('retries'), { ok: false, overflow: 'maxRetries' });
  assert.equal(b.overflows('requests'), 1);
  assert.equal(b.isOpen('requests'), true);
});

test('a release frees one unit, once, however often it is called', () => {
  const b = new CircuitBreaker({ ...DEFAULT_CONNECTION_POOL, maxRequests: 2 });
  const [first, second] = leases(b, 'requests', 2);
  first?.release();
  first?.release();
  first?.release();
  assert.equal(b.inUse('requests'), 1);
  assert.equal(b.remaining('requests'), 1);
  leases(b, 'requests', 1);
  assert.equal(b.tryAcquire('requests').ok, false, 'the repeated releases did not free extra units');
  second?.release();
  assert.equal(b.inUse('requests'), 1);
});

test('counts never go negative, and resources are counted apart', () => {
  const b = new CircuitBreaker();
  const all = leases(b, 'requests', 10);
  for (let i = 0; i < 3; i++) for (const l of all) l.release();
  assert.equal(b.inUse('requests'), 0);
  assert.equal(b.remaining('requests'), 1024);
  leases(b, 'retries', 3);
  assert.equal(b.inUse('requests'), 0);
  assert.equal(b.tryAcquire('retries').ok, false, 'the default allows 3 concurrent retries');
});

test('zero pending requests or retries means none is ever admitted', () => {
  const b = new CircuitBreaker({ maxConnections: 1, maxPendingRequests: 0, maxRequests: 1, maxRetries: 0 });
  assert.equal(b.tryAcquire('pendingRequests').ok, false);
  assert.equal(b.tryAcquire('retries').ok, false);
});

test('lower limits from a config change apply to new acquisitions; held units stay held', () => {
  const b = new CircuitBreaker({ ...DEFAULT_CONNECTION_POOL, maxRequests: 5 });
  const held = leases(b, 'requests', 4);
  b.setLimits({ ...DEFAULT_CONNECTION_POOL, maxRequests: 2 });
  assert.equal(b.tryAcquire('requests').ok, false);
  assert.equal(b.remaining('requests'), 0);
  held[0]?.release();
  held[1]?.release();
  assert.equal(b.tryAcquire('requests').ok, false, '2 in use, limit 2');
  held[2]?.release();
  assert.equal(b.tryAcquire('requests').ok, true);
});

test('bad limits are refused', () => {
  for (const bad of [
    { ...DEFAULT_CONNECTION_POOL, maxConnections: 0 },
    { ...DEFAULT_CONNECTION_POOL, maxRequests: 0 },
    { ...DEFAULT_CONNECTION_POOL, maxPendingRequests: -1 },
    { ...DEFAULT_CONNECTION_POOL, maxRetries: 1.5 },
    { ...DEFAULT_CONNECTION_POOL, maxRequests: Number.NaN },
  ]) {
    assert.throws(() => new CircuitBreaker(bad), RangeError, JSON.stringify(bad));
  }
});
