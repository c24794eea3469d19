import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readH2Header, readRawHeader } from './header-readers.js';

test('HTTP/1.1: names match case-insensitively; repeats are joined by ","', () => {
  const raw = ['Host', 'reviews', 'X-Tenant', 'acme', 'x-tenant', 'beta', 'X-Other', 'v'];
  assert.equal(readRawHeader(raw, 'x-tenant'), 'acme,beta');
  assert.equal(readRawHeader(raw, 'host'), 'reviews');
  assert.equal(readRawHeader(raw, 'x-missing'), undefined);
  assert.equal(readRawHeader(raw, 'x-othe'), undefined, 'a prefix of a name is not the name');
});

test('HTTP/2: host is read from :authority; arrays are joined by ","', () => {
  assert.equal(readH2Header({ ':authority': 'reviews:9080', host: 'ignored' }, 'host'), 'reviews:9080');
  assert.equal(readH2Header({ host: 'reviews' }, 'host'), 'reviews');
  assert.equal(readH2Header({ 'set-cookie': ['a=1', 'b=2'] }, 'set-cookie'), 'a=1,b=2');
  assert.equal(readH2Header({ 'x-tenant': 'acme' }, 'x-tenant'), 'acme');
  assert.equal(readH2Header({}, 'x-tenant'), undefined);
});
