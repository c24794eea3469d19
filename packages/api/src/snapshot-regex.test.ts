import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROUTE_REGEX_MAX_LENGTH, routeRegexProblem, translateRouteRegex } from './snapshot-regex.js';

const compiled = (source: string): RegExp => {
  const t = translateRouteRegex(source);
  assert.ok(t.ok, `expected ${JSON.stringify(source)} to be accepted: ${t.ok ? '' : t.problem}`);
  return new RegExp(t.source);
};

const refused = (source: string, why: RegExp): void => {
  const problem = routeRegexProblem(source);
  assert.ok(problem !== undefined, `expected ${JSON.stringify(source)} to be refused`);
  assert.match(problem, why);
};

describe('route regular expressions', () => {
  test('are anchored: they match the whole value only', () => {
    const re = compiled('/v[0-9]+/.*');
    assert.ok(re.test('/v2/users'));
    assert.ok(re.test('/v10/'));
    assert.ok(!re.test('/api/v2/users'), 'not found in the middle');
    assert.ok(!re.test('/v2'), 'must match to the end');
    // An alternation stays inside the anchors.
    const alt = compiled('/a|/b');
    assert.ok(alt.test('/a') && alt.test('/b'));
    assert.ok(!alt.test('/a/x') && !alt.test('x/b'));
  });

  test('the RE2 meaning of "." and \\s is kept', () => {
    const dot = compiled('a.b');
    assert.ok(dot.test('a\rb'), 'RE2 "." matches \\r (JavaScript\'s does not)');
    assert.ok(!dot.test('a\nb'), 'neither matches \\n');
    const space = compiled('a\\sb');
    assert.ok(space.test('a b') && space.test('a\tb'));
    assert.ok(!space.test('a\u00a0b'), 'RE2 \\s is ASCII whitespace only');
    assert.ok(!space.test('a\vb'), 'RE2 \\s does not include \\v');
    assert.ok(compiled('a\\Sb').test('axb') && !compiled('a\\Sb').test('a b'));
    assert.ok(compiled('[\\sx]+').test(' x\t'));
  });

  test('common constructs are accepted', () => {
    for (const s of ['[a-z0-9-]+', '(foo|bar)+', '(?:v1|v2)/[^/]*', '(?P<ver>v[0-9])/x', '(?<ver>v[0-9])', 'a{2,5}', 'a{3}', 'a{1,}', 'x*?y', '\\.json', '\\x41', '[\\]]', '\\d+\\w*\\b', 'a{,3}', '[:/]+']) {
      compiled(s);
    }
    assert.ok(compiled('(?P<ver>v[0-9])/x').test('v1/x'), 'RE2 named groups are translated');
    assert.ok(compiled('a{,3}').test('a{,3}'), 'a malformed count is a literal in both engines');
  });

  test('what JavaScript reads differently is refused', () => {
    refused('(a)\\1', /backreferences/);
    refused('(?<n>a)\\k<n>', /backreferences/);
    refused('a(?=b)', /lookahead/);
    refused('(?<!a)b', /lookahead and lookbehind/);
    refused('(?i)abc', /inline flags/);
    refused('\\p{L}+', /Unicode classes/);
    refused('\\u0041', /not supported/);
    refused('\\x{41}', /two hex digits/);
    refused('\\Aabc\\z', /not supported/);
    refused('\\0', /octal/);
    refused('[[:alpha:]]+', /POSIX classes/);
    refused('[]a]', /first in a class/);
    refused('[^]', /first in a class/);
    refused('[\\S]', /inside a class/);
    refused('abc\\', /lone backslash/);
  });

  test('what can take exponential time is refused', () => {
    refused('(a+)+b', /exponential/);
    refused('(?:a*)*', /exponential/);
    refused('((a|b)+)*', /exponential/);
    refused('(x(ab)*y)+', /exponential/);
    // A bounded repetition of a group that repeats cannot blow up: accepted.
    compiled('(a+)?');
    compiled('(ab)+c+');
  });

  test('bounds: length, counts, syntax', () => {
    refused('a'.repeat(ROUTE_REGEX_MAX_LENGTH + 1), /at most 1024/);
    compiled('a'.repeat(ROUTE_REGEX_MAX_LENGTH));
    refused('a{1001}', /at most 1000/);
    refused('a{5,2}', /reversed/);
    refused('', /empty/);
    refused('(abc', /unclosed/);
    refused('abc)', /unmatched/);
    refused('[abc', /unclosed/);
    refused('*a', /nothing to repeat/);
    refused('a**', /nothing to repeat/);
  });
});
