import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayBuffer } from './replay-buffer.js';

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);

test('a body that ended within the bound is kept whole and replayable', () => {
  const b = new ReplayBuffer(10);
  b.push(bytes(4));
  b.push(bytes(6));
  assert.equal(b.replayable, false, 'not before the body ended');
  b.end();
  assert.equal(b.replayable, true);
  assert.deepEqual(
    b.chunks().map((c) => c.byteLength),
    [4, 6],
  );
});

test('one byte over the bound drops the copy for good', () => {
  const b = new ReplayBuffer(10);
  b.push(bytes(10));
  b.push(bytes(1));
  b.push(bytes(1));
  b.end();
  assert.equal(b.replayable, false);
  assert.deepEqual(b.chunks(), []);
  assert.equal(b.bytes, 12);
});

test('an empty body is replayable; a zero bound keeps only empty bodies; chunks after the end are ignored', () => {
  const empty = new ReplayBuffer(0);
  empty.end();
  assert.equal(empty.replayable, true);
  const zero = new ReplayBuffer(0);
  zero.push(bytes(1));
  zero.end();
  assert.equal(zero.replayable, false);
  const late = new ReplayBuffer(4);
  late.push(bytes(2));
  late.end();
  late.push(bytes(100));
  assert.equal(late.replayable, true);
  assert.equal(late.bytes, 2);
  assert.equal(new ReplayBuffer().maxBytes, 65_536);
  for (const bad of [-1, 1.5, Number.NaN]) assert.throws(() => new ReplayBuffer(bad), RangeError);
});
