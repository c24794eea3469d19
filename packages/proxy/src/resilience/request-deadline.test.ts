import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attemptTimeout, remainingMs } from './request-deadline.js';

test('each attempt gets the per-attempt limit, cut short by what is left of the request deadline', () => {
  const t = { requestMs: 1000, backendRequestMs: 300 };
  assert.deepEqual(attemptTimeout(t, 0), { timeoutMs: 300, by: 'backendRequest' });
  assert.deepEqual(attemptTimeout(t, 650), { timeoutMs: 300, by: 'backendRequest' });
  assert.deepEqual(attemptTimeout(t, 800), { timeoutMs: 200, by: 'request' });
  assert.deepEqual(attemptTimeout(t, 1200), { timeoutMs: 0, by: 'request' }, 'past the deadline: no attempt');
  assert.deepEqual(attemptTimeout({ requestMs: 500, backendRequestMs: 500 }, 0), { timeoutMs: 500, by: 'request' });
});

test('0 or absent disables a timeout', () => {
  assert.equal(attemptTimeout({}, 10), undefined);
  assert.equal(attemptTimeout({ requestMs: 0, backendRequestMs: 0 }, 10), undefined);
  assert.deepEqual(attemptTimeout({ requestMs: 0, backendRequestMs: 100 }, 10_000), { timeoutMs: 100, by: 'backendRequest' });
  assert.deepEqual(attemptTimeout({ requestMs: 100 }, 40), { timeoutMs: 60, by: 'request' });
  assert.equal(remainingMs({ requestMs: 0 }, 5), undefined);
  assert.equal(remainingMs({}, 5), undefined);
  assert.equal(remainingMs({ requestMs: 100 }, 30), 70);
  assert.equal(remainingMs({ requestMs: 100 }, 300), 0);
});
