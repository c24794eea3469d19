import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authzPath } from './request-path.js';

test('the query and fragment are cut; a plain path comes back as it is', () => {
  assert.equal(authzPath('/reviews/1?x=1'), '/reviews/1');
  assert.equal(authzPath('/reviews/1#top'), '/reviews/1');
  assert.equal(authzPath('/a?b#c'), '/a');
  assert.equal(authzPath('/a#b?c'), '/a');
  const plain = '/reviews/1';
  assert.equal(authzPath(plain), plain);
  assert.equal(authzPath('/'), '/');
  assert.equal(authzPath('*'), '*');
});

test('dot segments are resolved (RFC 3986 §5.2.4)', () => {
  assert.equal(authzPath('/a/./b'), '/a/b');
  assert.equal(authzPath('/a/b/../c'), '/a/c');
  assert.equal(authzPath('/a/..'), '/');
  assert.equal(authzPath('/a/.'), '/a/');
  assert.equal(authzPath('/../../etc'), '/etc');
  assert.equal(authzPath('/a/b/..?q=/..'), '/a/');
  assert.equal(authzPath('/a/.hidden/..b'), '/a/.hidden/..b', 'segments that only start with a dot stay');
  assert.equal(authzPath('/a//b'), '/a//b', 'empty segments stay');
});

test('escapes of unreserved characters are decoded, others keep upper-case hex', () => {
  assert.equal(authzPath('/%61dmin'), '/admin');
  assert.equal(authzPath('/%7Euser/%2D%5F'), '/~user/-_');
  assert.equal(authzPath('/a%2fb'), '/a%2Fb', 'an encoded slash is not a separator');
  assert.equal(authzPath('/a%20b'), '/a%20b');
  assert.equal(authzPath('/%2e%2E/admin'), '/admin', 'encoded dots make dot segments');
  assert.equal(authzPath('/100%'), '/100%', 'a stray % stays');
  assert.equal(authzPath('/%zz'), '/%zz');
});
