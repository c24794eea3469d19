import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { echoBytesChunks, echoBytesSha256, echoBytesSlice } from './echo-bytes.js';

test('chunks, slices and hash all describe the same payload', () => {
  const n = 200_000;
  const whole = Buffer.concat([...echoBytesChunks(n, 7_000)]);
  assert.equal(whole.length, n);
  assert.deepEqual(whole, echoBytesSlice(0, n));
  assert.deepEqual(whole.subarray(65_000, 70_000), echoBytesSlice(65_000, 5_000));
  assert.equal(echoBytesSha256(n), createHash('sha256').update(whole).digest('hex'));
  assert.equal(echoBytesSha256(0), createHash('sha256').digest('hex'));
});

test('the payload does not repeat at power-of-two offsets', () => {
  // A proxy that repeats or drops a 16 KiB or 64 KiB chunk must change the bytes.
  for (const size of [16 * 1024, 64 * 1024]) {
    assert.notDeepEqual(echoBytesSlice(0, 1024), echoBytesSlice(size, 1024));
  }
});
