import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePathChange, replacePrefix } from './path-rewrite.js';

test('ReplacePrefixMatch follows the Gateway API table', () => {
  // Request path, prefix match, replacement, result: the table of HTTPPathModifier.
  const table: [string, string, string, string][] = [
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/', '/foo', '', '/'],
    ['/foo', '/foo', '', '/'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
  ];
  for (const [path, prefix, replacement, want] of table) {
    // The compiled match hands over the prefix without its trailing "/".
    const normal = prefix.replace(/\/$/, '');
    assert.equal(replacePrefix(path, normal, replacement), want, `${path} with ${prefix} -> ${JSON.stringify(replacement)}`);
  }
});

test('ReplacePrefixMatch replaces whole segments only, and the root prefix prepends', () => {
  assert.equal(replacePrefix('/foobar', '/foo', '/xyz'), '/foobar', 'not a segment boundary: unchanged');
  assert.equal(replacePrefix('/other', '/foo', '/xyz'), '/other');
  assert.equal(replacePrefix('/a/b', '', '/v2'), '/v2/a/b');
  assert.equal(replacePrefix('/', '', '/v2'), '/v2/');
  assert.equal(replacePrefix('/a', '', ''), '/a');
});

test('path changes keep the query', () => {
  const prefix = compilePathChange({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' });
  assert.equal(prefix('/v1/users?id=1&x', '/v1'), '/v2/users?id=1&x');
  assert.equal(prefix('/v1?id=1', '/v1'), '/v2?id=1');
  assert.equal(prefix('/v1/users', undefined), '/v1/users', 'without a prefix match there is nothing to replace');
  const full = compilePathChange({ type: 'ReplaceFullPath', replaceFullPath: '/new' });
  assert.equal(full('/old/path?q=1', undefined), '/new?q=1');
  assert.equal(full('/old/path', '/old'), '/new');
});
