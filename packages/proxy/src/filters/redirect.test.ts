import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestRedirectSchema } from '@weft/api/data-plane';
import { compileRedirect, splitAuthority } from './redirect.js';

const redirect = (r: unknown, authority: string, target: string, prefix?: string, scheme = 'http') =>
  compileRedirect(RequestRedirectSchema.parse(r))({ scheme, authority, target }, prefix);

test('every part not configured is the request\'s; 302 by default', () => {
  const r = redirect({}, 'reviews:9080', '/a?b=1');
  assert.deepEqual(r, { status: 302, reason: 'Found', location: 'http://reviews:9080/a?b=1' });
  assert.equal(redirect({}, 'reviews', '/a').location, 'http://reviews/a');
});

test('scheme: its well-known port unless a port is set; 80 and 443 are left out', () => {
  assert.equal(redirect({ scheme: 'https' }, 'reviews:9080', '/a').location, 'https://reviews/a');
  assert.equal(redirect({ scheme: 'https', port: 8443 }, 'reviews:9080', '/a').location, 'https://reviews:8443/a');
  assert.equal(redirect({ scheme: 'http', port: 80 }, 'reviews:9080', '/a').location, 'http://reviews/a');
  assert.equal(redirect({ port: 443 }, 'reviews', '/a', undefined, 'https').location, 'https://reviews/a');
  assert.equal(redirect({ port: 8080 }, 'reviews', '/a').location, 'http://reviews:8080/a');
  assert.equal(redirect({}, 'reviews:80', '/a').location, 'http://reviews/a');
});

test('hostname, path and status', () => {
  const r = redirect({ hostname: 'example.com', statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } }, 'reviews:9080', '/old/x?q', '/old');
  assert.deepEqual(r, { status: 301, reason: 'Moved Permanently', location: 'http://example.com:9080/new/x?q' });
  assert.equal(redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/login' } }, 'a', '/x?next=1').location, 'http://a/login?next=1');
  for (const [code, reason] of [[303, 'See Other'], [307, 'Temporary Redirect'], [308, 'Permanent Redirect']] as const) {
    assert.deepEqual([redirect({ statusCode: code }, 'a', '/').status, redirect({ statusCode: code }, 'a', '/').reason], [code, reason]);
  }
});

test('authorities: IPv6 and user info', () => {
  assert.deepEqual(splitAuthority('[::1]:8080'), { host: '[::1]', port: 8080 });
  assert.deepEqual(splitAuthority('[::1]'), { host: '[::1]', port: undefined });
  assert.deepEqual(splitAuthority('u:p@h:1'), { host: 'h', port: 1 });
  assert.deepEqual(splitAuthority('h:bad'), { host: 'h', port: undefined });
  assert.equal(redirect({}, '[::1]:8080', '/').location, 'http://[::1]:8080/');
});
