/** The framing of the file store's log and snapshot lines: round trip and detection of damage. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from '../src/store/crc32.js';
import { frame, readFrame, scanFrames } from '../src/store/framing.js';

test('a frame is "<len> <crc> <payload>\\n" and reads back, with multi-byte UTF-8', () => {
  const payload = '{"v":"é ✓ 😀"}';
  const f = frame(payload);
  const text = f.toString('utf8');
  assert.match(text, /^[0-9a-f]{8} [0-9a-f]{8} \{.*\}\n$/);
  assert.equal(Number.parseInt(text.slice(0, 8), 16), Buffer.byteLength(payload));
  assert.deepEqual(readFrame(f, 0), { payload, end: f.length });
});

test('crc32 matches the IEEE check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('scanFrames reads intact frames and stops at the first damaged one', () => {
  const frames = ['{"a":1}', '{"b":2}', '{"c":3}'].map(frame);
  const whole = Buffer.concat(frames);
  assert.deepEqual(scanFrames(whole), { payloads: ['{"a":1}', '{"b":2}', '{"c":3}'], validBytes: whole.length, trailingBytes: 0, intactAfterDamage: false });
  const f0 = frames[0] ?? Buffer.alloc(0);
  const f1 = frames[1] ?? Buffer.alloc(0);
  for (let cut = 1; cut < whole.length - f0.length; cut++) {
    const s = scanFrames(whole.subarray(0, f0.length + cut));
    assert.ok(s.payloads.length >= 1 && s.validBytes >= f0.length);
    if (cut < f1.length) {
      assert.equal(s.payloads.length, 1, `cut ${cut}`);
      assert.equal(s.trailingBytes, cut);
      assert.equal(s.intactAfterDamage, false);
    }
  }
  const flipped = Buffer.from(whole);
  flipped[f0.length + 20] = 0x41; // inside the second payload
  const s = scanFrames(flipped);
  assert.deepEqual(s.payloads, ['{"a":1}']);
  assert.equal(s.intactAfterDamage, true, 'the third frame is intact after the damaged second');
});
