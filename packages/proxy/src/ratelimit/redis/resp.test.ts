import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeCommand, MAX_ARRAY_LENGTH, MAX_BULK_BYTES, RespError, RespParser, RespProtocolError } from './resp.js';

test('commands are arrays of bulk strings, lengths in bytes', () => {
  assert.equal(encodeCommand(['SET', 'k', 'é', 12]).toString('utf8'), '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$2\r\n12\r\n');
  assert.equal(encodeCommand([]).toString(), '*0\r\n');
});

test('every reply type parses, nested arrays and nulls included', () => {
  const p = new RespParser();
  const replies = p.push(Buffer.from('+OK\r\n-NOSCRIPT No matching script\r\n:-42\r\n$5\r\nhe\r\nl\r\n$-1\r\n*-1\r\n*3\r\n:1\r\n*2\r\n$0\r\n\r\n+x\r\n$1\r\ny\r\n'));
  assert.equal(replies.length, 7);
  assert.equal(replies[0], 'OK');
  assert.ok(replies[1] instanceof RespError);
  assert.equal((replies[1] as RespError).kind, 'NOSCRIPT');
  assert.equal(replies[2], -42);
  assert.equal(replies[3], 'he\r\nl', 'a bulk string may hold CRLF');
  assert.equal(replies[4], null);
  assert.equal(replies[5], null);
  assert.deepEqual(replies[6], [1, ['', 'x'], 'y']);
});

test('replies split at every byte boundary parse the same', () => {
  const wire = Buffer.from('*2\r\n:10\r\n$3\r\nabc\r\n+OK\r\n');
  for (let cut = 1; cut < wire.length; cut++) {
    const p = new RespParser();
    const got = [...p.push(wire.subarray(0, cut)), ...p.push(wire.subarray(cut))];
    assert.deepEqual(got, [[10, 'abc'], 'OK'], `cut at ${cut}`);
    assert.equal(p.pending, 0);
  }
  const p = new RespParser();
  const got = [...wire].flatMap((b) => p.push(Buffer.from([b])));
  assert.deepEqual(got, [[10, 'abc'], 'OK'], 'one byte at a time');
});

test('bad input is a protocol error, never a hang or unbounded buffering', () => {
  const bad = ['?x\r\n', ':12a\r\n', '$-2\r\n', `$${MAX_BULK_BYTES + 1}\r\n`, '$3\r\nabcXY', `*${MAX_ARRAY_LENGTH + 1}\r\n`, '*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n', ':99999999999999999999\r\n'];
  for (const input of bad) assert.throws(() => new RespParser().push(Buffer.from(input)), RespProtocolError, JSON.stringify(input));
  assert.throws(() => new RespParser().push(Buffer.alloc(70 * 1024, 0x2b)), RespProtocolError, 'a line without end');
});
