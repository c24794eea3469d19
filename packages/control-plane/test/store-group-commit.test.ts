/** Group commit: batching, ordering, and what a failed write does to what is queued behind it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommitter } from '../src/store/group-commit.js';

/** A write function whose calls the test completes by hand. */
const manualWriter = (): { write: (batch: number[]) => Promise<void>; calls: { batch: number[]; done: (err?: Error) => void }[] } => {
  const calls: { batch: number[]; done: (err?: Error) => void }[] = [];
  return {
    calls,
    write: (batch) =>
      new Promise<void>((resolve, reject) => {
        calls.push({ batch, done: (err) => (err ? reject(err) : resolve()) });
      }),
  };
};

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a lone item is written at once; items submitted during a write go together in the next batch, in order', async () => {
  const w = manualWriter();
  const gc = new GroupCommitter<number>(w.write);
  const resolved: number[] = [];
  const p = [gc.submit(1)].map((x, i) => x.then(() => resolved.push(i + 1)));
  assert.deepEqual(w.calls.map((c) => c.batch), [[1]]);
  for (let i = 2; i <= 5; i++) p.push(gc.submit(i).then(() => resolved.push(i)));
  assert.equal(w.calls.length, 1, 'nothing else is written while the first batch is in flight');
  w.calls[0]?.done();
  await tick();
  await tick();
  assert.deepEqual(resolved, [1]);
  assert.deepEqual(w.calls.map((c) => c.batch), [[1], [2, 3, 4, 5]]);
  w.calls[1]?.done();
  await Promise.all(p);
  assert.deepEqual(resolved, [1, 2, 3, 4, 5]);
  await gc.drain();
});

test('afterBatch runs between batches with nothing in flight', async () => {
  const w = manualWriter();
  const log: string[] = [];
  const gc = new GroupCommitter<number>(
    async (b) => {
      log.push(`write ${b.join(',')}`);
      await w.write(b);
    },
    async () => {
      log.push('after');
    },
  );
  const a = gc.submit(1);
  const b = gc.submit(2);
  w.calls[0]?.done();
  await a;
  await tick();
  await tick();
  w.calls[1]?.done();
  await b;
  await gc.drain();
  assert.deepEqual(log, ['write 1', 'after', 'write 2', 'after']);
});

test('a failed write rejects its batch, everything queued behind it, and every later submission', async () => {
  const w = manualWriter();
  const gc = new GroupCommitter<number>(w.write);
  const first = gc.submit(1);
  const queued = [gc.submit(2), gc.submit(3)];
  const boom = new Error('EIO');
  w.calls[0]?.done(boom);
  await assert.rejects(first, boom);
  for (const q of queued) await assert.rejects(q, boom);
  await assert.rejects(gc.submit(4), boom);
  assert.equal(w.calls.length, 1, 'nothing is written after a failure');
  await gc.drain();
});

test('drain waits for queued items', async () => {
  const w = manualWriter();
  const gc = new GroupCommitter<number>(w.write);
  void gc.submit(1);
  void gc.submit(2);
  let drained = false;
  const d = gc.drain().then(() => {
    drained = true;
  });
  w.calls[0]?.done();
  await tick();
  await tick();
  assert.equal(drained, false);
  w.calls[1]?.done();
  await d;
  assert.equal(drained, true);
});
