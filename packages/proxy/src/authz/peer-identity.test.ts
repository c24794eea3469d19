import assert from 'node:assert/strict';
import { test } from 'node:test';
import { peerIdentityFromPrincipal } from './peer-identity.js';

test('a workload SPIFFE ID gives the principal, namespace and service account', () => {
  assert.deepEqual(peerIdentityFromPrincipal('spiffe://cluster.local/ns/shop/sa/frontend'), {
    principal: 'spiffe://cluster.local/ns/shop/sa/frontend',
    namespace: 'shop',
    serviceAccount: 'frontend',
  });
});

test('anything else is no identity', () => {
  for (const id of [
    '',
    'frontend',
    'spiffe://cluster.local',
    'spiffe://cluster.local/ns/shop',
    'spiffe://cluster.local/ns/shop/sa/',
    'spiffe://cluster.local/ns/Shop/sa/frontend',
    'spiffe://cluster.local/ns/shop/sa/frontend/extra',
    'https://cluster.local/ns/shop/sa/frontend',
  ]) {
    assert.equal(peerIdentityFromPrincipal(id), undefined, JSON.stringify(id));
  }
});
