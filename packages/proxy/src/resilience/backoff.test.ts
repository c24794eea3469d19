import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelayMs, maxBackoffFor } from './backoff.js';
import { seededRandom } from './clock.js';

const spec = { baseMs: 25, maxMs: 250 };

test('the cap doubles per retry from the base up to the max; delays fill [0, cap)', () => {
  const almostOne = () => 0.999_999_999;
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 50].map((r) => backoffDelayMs(r, spec, almostOne)),
    [24, 49, 99, 199, 249, 249, 249],
  );
  assert.deepEqual(
    [1, 2, 10].map((r) => backoffDelayMs(r, spec, () => 0)),
    [0, 0, 0],
  );
  assert.equal(backoffDelayMs(3, spec, () => 0.5), 50);
});

test('jitter is spread over the whole window and never leaves it', () => {
  const random = seededRandom(7);
  const delays = Array.from({ length: 10_000 }, () => backoffDelayMs(3, spec, random));
  assert.ok(delays.every((d) => Number.isInteger(d) && d >= 0 && d < 100));
  const low = delays.filter((d) => d < 50).length;
  // Uniform: about half below the middle. 10 000 draws of a fixed seed; the bound is far from any edge.
  assert.ok(low > 4000 && low < 6000, String(low));
});

test('huge retry numbers neither overflow nor exceed the max', () => {
  assert.equal(backoffDelayMs(100_000, spec, () => 0.999_999), 249);
  assert.equal(backoffDelayMs(2000, { baseMs: 1, maxMs: Number.MAX_SAFE_INTEGER }, () => 0) >= 0, true);
});

test('a zero base means no delay; bad retry numbers are refused', () => {
  assert.equal(backoffDelayMs(5, { baseMs: 0, maxMs: 0 }, () => 0.9), 0);
  for (const r of [0, -1, 1.5, Number.NaN]) assert.throws(() => backoffDelayMs(r, spec, () => 0), RangeError);
  assert.equal(maxBackoffFor(25), 250);
});
