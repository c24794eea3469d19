import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cookieValue, requestHash, setCookieValue, type HashSubject } from './hash-key.js';
import { murmur3 } from './murmur3.js';

const subject = (headers: Record<string, string>, sourceAddress = '10.1.2.3'): HashSubject => ({ header: (n) => headers[n], sourceAddress });
const never = (): string => {
  throw new Error('no cookie should be made');
};

test('murmur3 matches the reference vectors', () => {
  assert.equal(murmur3(''), 0);
  assert.equal(murmur3('', 1), 0x514e28b7);
  assert.equal(murmur3('a'), 0x3c2569b2);
  assert.equal(murmur3('abc'), 0xb3dd93fa);
  assert.equal(murmur3('hello'), 0x248bfa47);
  assert.equal(murmur3('The quick brown fox jumps over the lazy dog'), 0x2e4ff723);
  assert.equal(murmur3('x'.repeat(10_000)), murmur3('x'.repeat(10_000)), 'long keys grow the scratch buffer and stay stable');
  assert.notEqual(murmur3('é'), murmur3('e'), 'hashes UTF-8 bytes');
});

test('header keys hash the value; a request without the header has no hash', () => {
  assert.deepEqual(requestHash({ type: 'HEADER', name: 'x-user' }, subject({ 'x-user': 'alice' }), never), { hash: murmur3('alice') });
  assert.deepEqual(requestHash({ type: 'HEADER', name: 'x-user' }, subject({}), never), { hash: undefined });
  assert.deepEqual(requestHash({ type: 'HEADER', name: 'x-user' }, subject({ 'x-user': '' }), never), { hash: murmur3('') }, 'an empty value is a value');
});

test('source keys hash the caller address', () => {
  assert.deepEqual(requestHash({ type: 'SOURCE_IP' }, subject({}, '2001:db8::1'), never), { hash: murmur3('2001:db8::1') });
});

test('cookie values are read among others, quoted or not', () => {
  assert.equal(cookieValue('a=1; session=abc; b=2', 'session'), 'abc');
  assert.equal(cookieValue('session="q v"', 'session'), 'q v');
  assert.equal(cookieValue('xsession=1; session = two', 'session'), 'two');
  assert.equal(cookieValue('sessionx=1', 'session'), undefined);
  assert.equal(cookieValue('garbage; =; session', 'session'), undefined);
  assert.equal(cookieValue(undefined, 'session'), undefined);
});

test('cookie keys: hash the cookie; without one, make one only when a ttl is set', () => {
  const spec = { type: 'COOKIE' as const, name: 'sticky' };
  assert.deepEqual(requestHash(spec, subject({ cookie: 'sticky=v1' }), never), { hash: murmur3('v1') });
  assert.deepEqual(requestHash(spec, subject({}), never), { hash: undefined });
  assert.deepEqual(requestHash(spec, subject({ cookie: 'sticky=' }), never), { hash: undefined }, 'an empty cookie is no key');
  const made = requestHash({ ...spec, ttlMs: 3_600_500, path: '/app' }, subject({}), () => 'c0ffee');
  assert.deepEqual(made, { hash: murmur3('c0ffee'), setCookie: 'sticky=c0ffee; Max-Age=3600; Path=/app; HttpOnly' });
  // The client sends the made cookie back and lands on the same hash.
  assert.equal(requestHash(spec, subject({ cookie: 'sticky=c0ffee' }), never).hash, made.hash);
  assert.equal(setCookieValue('s', 'v', 10, undefined), 's=v; Max-Age=1; HttpOnly');
});
