import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { TCP_GREETING, startTcpGreeter } from './tcp-greeter.js';

test('greets first, echoes lines upper-cased, and closes on QUIT', async (t) => {
  const greeter = await startTcpGreeter();
  t.after(greeter.close);
  const socket = connect(greeter.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.setEncoding('utf8');
  let buffer = '';
  socket.on('data', (c: string) => (buffer += c));
  // Read through a function: TypeScript would otherwise narrow the variable to the
  // literal of the first assertion.
  const received = (): string => buffer;
  const until = async (text: string): Promise<void> => {
    while (!received().includes(text)) await once(socket, 'data');
  };

  // The client sends nothing: the greeting must come anyway.
  await until(TCP_GREETING);
  assert.equal(received(), 'HELLO weft\r\n');

  socket.write('hello there\r\nsecond ');
  socket.write('line\n');
  await until('SECOND LINE\r\n');
  assert.equal(received(), 'HELLO weft\r\nHELLO THERE\r\nSECOND LINE\r\n');

  socket.write('QUIT\r\n');
  await once(socket, 'end');
  assert.ok(received().endsWith('BYE\r\n'));
  assert.equal(greeter.connections, 1);
});
