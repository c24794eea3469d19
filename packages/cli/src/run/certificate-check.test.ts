import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateCheck } from './certificate-check.js';

const H = 3600 * 1000;
const at = (ms: number): string => new Date(ms).toISOString();
const cert = (from: number, until: number) => ({ spiffeId: 'spiffe://cluster.local/ns/default/sa/web', signerHash: 'sha256:x', notBefore: at(from), notAfter: at(until) });

test('a certificate is fresh until three quarters of its lifetime, then a warning, then a failure once expired', () => {
  const t0 = Date.parse('2026-11-22T00:00:00Z');
  assert.equal(certificateCheck('proxy a', undefined, t0), undefined, 'nothing to say without a certificate');
  assert.equal(certificateCheck('proxy a', cert(t0, t0 + 24 * H), t0 + 12 * H)?.status, 'ok');
  assert.equal(certificateCheck('proxy a', cert(t0, t0 + 24 * H), t0 + 18 * H)?.status, 'ok', 'exactly three quarters is still fine');
  const late = certificateCheck('proxy a', cert(t0, t0 + 24 * H), t0 + 19 * H);
  assert.equal(late?.status, 'warn');
  assert.match(late?.text ?? '', /was not renewed/);
  const gone = certificateCheck('proxy a', cert(t0, t0 + 24 * H), t0 + 24 * H);
  assert.equal(gone?.status, 'fail');
  assert.match(gone?.text ?? '', /expired 2026-11-23T00:00:00\.000Z/);
});
