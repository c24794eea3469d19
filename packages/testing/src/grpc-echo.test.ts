import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { test } from 'node:test';
import { grpcEchoClient } from './grpc-echo-client.js';
import { GRPC_ECHO_FAILURE_TRAILER, startGrpcEcho } from './grpc-echo.js';

const start = async (t: { after: (fn: () => unknown) => void }, name = 'grpc-a') => {
  const server = await startGrpcEcho({ name });
  t.after(server.close);
  const client = grpcEchoClient(server.address);
  t.after(client.close);
  return { server, client };
};

test('unary echoes the message and the request metadata, with x-served-by', async (t) => {
  const { server, client } = await start(t);
  const r = await client.unary({ message: 'hi' }, { metadata: { 'x-trace': 'abc' } });
  assert.equal(r.code, status.OK);
  assert.equal(r.replies.length, 1);
  const [reply] = r.replies;
  assert.equal(reply?.message, 'hi');
  assert.equal(reply?.servedBy, 'grpc-a');
  assert.equal(reply?.metadata['x-trace'], 'abc');
  assert.deepEqual(r.headers.get('x-served-by'), ['grpc-a']);
  assert.deepEqual(r.trailers.get('x-served-by'), ['grpc-a']);
  assert.equal(server.calls, 1);
});

test('server streaming sends count replies in order', async (t) => {
  const { client } = await start(t);
  const r = await client.serverStream({ message: 'tick', count: 5 });
  assert.equal(r.code, status.OK);
  assert.deepEqual(
    r.replies.map((x) => x.index),
    [0, 1, 2, 3, 4],
  );
  assert.ok(r.replies.every((x) => x.message === 'tick'));
});

test('client streaming concatenates messages and sums numbers', async (t) => {
  const { client } = await start(t);
  const r = await client.clientStream([
    { message: 'a', number: 1 },
    { message: 'b', number: 2 },
    { message: 'c', number: 39 },
  ]);
  assert.equal(r.code, status.OK);
  assert.equal(r.replies[0]?.message, 'abc');
  assert.equal(r.replies[0]?.sum, 42);
  assert.equal(r.replies[0]?.index, 3);
});

test('bidi streaming answers each request, also interleaved', async (t) => {
  const { client } = await start(t);
  const r = await client.bidiStream([{ message: 'x' }, { message: 'y' }]);
  assert.equal(r.code, status.OK);
  assert.deepEqual(
    r.replies.map((x) => `${x.index}:${x.message}`),
    ['0:x', '1:y'],
  );

  // Ping-pong: each reply arrives before the next request is written.
  const call = client.openBidi();
  for (const message of ['one', 'two', 'three']) {
    const next = new Promise((resolve) => call.once('data', resolve));
    call.write({ message });
    assert.equal((await next as { message: string }).message, message);
  }
  const ended = new Promise((resolve) => call.on('status', resolve));
  call.end();
  await ended;
});

test('failWithCode ends each call kind with that status and the failure trailer', async (t) => {
  const { client } = await start(t);
  const unary = await client.unary({ failWithCode: status.UNAVAILABLE, failMessage: 'down' });
  assert.equal(unary.code, status.UNAVAILABLE);
  assert.equal(unary.details, 'down');
  assert.deepEqual(unary.trailers.get(GRPC_ECHO_FAILURE_TRAILER), ['requested']);
  assert.equal(unary.headers.get('x-served-by').length, 0, 'unary failure is Trailers-Only');

  const stream = await client.serverStream({ count: 2, failWithCode: status.RESOURCE_EXHAUSTED });
  assert.equal(stream.code, status.RESOURCE_EXHAUSTED);
  assert.equal(stream.replies.length, 2, 'replies before the failure arrive');

  const cs = await client.clientStream([{ message: 'a' }, { failWithCode: status.INVALID_ARGUMENT }]);
  assert.equal(cs.code, status.INVALID_ARGUMENT);

  const bidi = await client.bidiStream([{ message: 'ok' }, { failWithCode: status.PERMISSION_DENIED }, { message: 'late' }]);
  assert.equal(bidi.code, status.PERMISSION_DENIED);
  assert.deepEqual(
    bidi.replies.map((x) => x.message),
    ['ok'],
  );
  assert.deepEqual(bidi.trailers.get(GRPC_ECHO_FAILURE_TRAILER), ['requested']);
});

test('delayMs past the deadline gives DEADLINE_EXCEEDED', async (t) => {
  const { client } = await start(t);
  const r = await client.unary({ message: 'late', delayMs: 500 }, { deadlineMs: 100 });
  assert.equal(r.code, status.DEADLINE_EXCEEDED);
});
