import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { compileRouteRegex } from './route-regex.js';

test('route expressions are anchored and keep their RE2 meaning', () => {
  const re = compileRouteRegex('/v[0-9]+/.*');
  assert.ok(re.test('/v1/x'));
  assert.ok(!re.test('/api/v1/x'));
  assert.ok(compileRouteRegex('a.b').test('a\rb'));
  assert.throws(() => compileRouteRegex('(a)\\1'), /backreferences/);
});

test('an expression that backtracks excessively finishes, on the linear-time engine', () => {
  const re = compileRouteRegex('.*a.*a.*a.*a.*b');
  // Without V8's linear-time fallback this takes polynomial time of high degree on this
  // input (minutes); with it, an instant. The vm limit turns a hang into a failure.
  const matched: unknown = runInNewContext('re.test(s)', { re, s: 'a'.repeat(5000) }, { timeout: 20_000 });
  assert.equal(matched, false);
});
