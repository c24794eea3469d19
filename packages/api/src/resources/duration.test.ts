import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DURATION_PATTERN, durationSchema, formatDuration, isDuration, parseDuration } from './duration.js';

test('parseDuration reads every unit and combinations', () => {
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('1ms'), 1);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('24h'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1h2m3s4ms'), 3_723_004);
  assert.equal(parseDuration('99999ms'), 99_999);
});

test('repeated units add up, as Go does', () => {
  assert.equal(parseDuration('1s1s'), 2000);
  assert.equal(parseDuration('1m1ms'), 60_001);
});

test('anything outside the Gateway API format is refused with a message naming the format', () => {
  for (const bad of ['', '1', 's', '1.5s', '-1s', '1 s', '1d', '1us', '100000ms', '1h1h1h1h1h', ' 1s', '1s ', '1S', 'PT1S']) {
    assert.equal(isDuration(bad), false, bad);
    assert.throws(() => parseDuration(bad), (err: unknown) => err instanceof RangeError && /expected e\.g\. "500ms"/.test(err.message), bad);
  }
});

test('the pattern is the Gateway API one, verbatim', () => {
  assert.equal(DURATION_PATTERN.source, '^([0-9]{1,5}(h|m|s|ms)){1,4}$');
});

test('formatDuration writes the shortest form and round-trips', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(3_723_004), '1h2m3s4ms');
  for (const ms of [1, 999, 1001, 61_000, 86_400_000, 359_999_999]) assert.equal(parseDuration(formatDuration(ms)), ms);
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(1.5), RangeError);
  assert.throws(() => formatDuration(100_000 * 3_600_000), RangeError);
});

test('durationSchema checks format and bounds, with messages that say the rule', () => {
  const s = durationSchema({ min: '1m', max: '2160h' });
  assert.equal(s.parse('24h'), '24h');
  assert.equal(s.parse('1m'), '1m');
  assert.equal(s.parse('2160h'), '2160h');
  const tooShort = s.safeParse('59s');
  assert.ok(!tooShort.success);
  assert.equal(tooShort.error.issues[0]?.message, 'must be at least 1m');
  const tooLong = s.safeParse('2161h');
  assert.ok(!tooLong.success);
  assert.equal(tooLong.error.issues[0]?.message, 'must be at most 2160h');
  const malformed = s.safeParse('1.5h');
  assert.ok(!malformed.success);
  assert.equal(malformed.error.issues.length, 1, 'a malformed value reports the format only, not the bounds');
  assert.match(malformed.error.issues[0]?.message ?? '', /must be a duration such as "500ms"/);
});
