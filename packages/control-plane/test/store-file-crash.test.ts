/**
 * Crash safety of the file store, with real processes: a child writes in a tight loop
 * (creates, deletes, a counter) and prints each write only after the store acknowledged it;
 * the test `kill -9`s it at a random moment, reopens the store and checks that every
 * acknowledged write is there with exactly its value and that nothing is torn. Ten rounds on
 * one directory (so later rounds recover what earlier kills left; some kills land during that
 * recovery), a small compaction
 * threshold (so kills also land while a snapshot is written), bounded to about 25 s in all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileStore, type JsonObject } from '../src/store/index.js';
import { recordingLogger, spawnWriter, tempDir, type WriterChild } from './fixtures/store-helpers.js';

const ROUNDS = 10;
/** No new round starts after this (a round is under a second once its child has loaded). */
const BUDGET_MS = 20_000;

/** What the children acknowledged, over all rounds. */
interface Acked {
  readonly values: Map<string, JsonObject>;
  /** Deletes issued (they may have reached the disk without an acknowledgement). */
  readonly deleting: Set<string>;
  readonly deleted: Set<string>;
  counter: number;
}

const absorb = (lines: readonly string[], acked: Acked): void => {
  for (const line of lines) {
    if (line.startsWith('ack ')) {
      const { key, value } = JSON.parse(line.slice(4)) as { key: string; value: JsonObject };
      acked.values.set(key, value);
    } else if (line.startsWith('deleting ')) {
      acked.deleting.add(line.slice(9));
    } else if (line.startsWith('del ')) {
      acked.deleted.add(line.slice(4));
    } else if (line.startsWith('counter ')) {
      acked.counter = Math.max(acked.counter, Number(line.slice(8)));
    }
  }
};

/** Reopens the store and checks it against everything acknowledged; returns the revision and the log warnings. */
const verify = async (dir: string, acked: Acked): Promise<{ revision: number; warnings: string[] }> => {
  const rec = recordingLogger();
  const store = await FileStore.open({ dir, logger: rec.logger });
  try {
    const { items, revision } = await store.list({ kind: 'Item', namespace: 'crash' });
    const present = new Map(items.map((i) => [`Item/crash/${i.key.name}`, i.value]));
    for (const [key, value] of acked.values) {
      if (acked.deleted.has(key)) assert.ok(!present.has(key), `${key}: acknowledged delete lost`);
      else if (acked.deleting.has(key) && !present.has(key)) continue; // deleted, unacknowledged but durable: fine
      else assert.deepStrictEqual(present.get(key), value, `${key}: acknowledged create lost or changed`);
    }
    for (const [key, v] of present) {
      // Writes that were in flight at the kill may or may not be there, but never torn.
      const len = Number(v['len']);
      assert.equal(typeof v['pad'], 'string', key);
      assert.equal(String(v['pad']).length, len, `${key}: value torn`);
      assert.equal(String(v['pad']), 'abcdefghij'.repeat(Math.ceil(len / 10)).slice(0, len), `${key}: value torn`);
    }
    const counter = await store.get({ kind: 'Counter', namespace: '', name: 'c' });
    if (acked.counter > 0) {
      assert.ok(counter !== undefined, 'counter lost');
      assert.ok(Number(counter.value['n']) >= acked.counter, `counter ${String(counter.value['n'])} < acknowledged ${acked.counter}`);
    }
    return { revision, warnings: rec.lines.filter((l) => l.level !== 'debug').map((l) => l.msg) };
  } finally {
    await store.close();
  }
};

test('kill -9 at random moments never loses or tears an acknowledged write', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'store-crash');
  const children: WriterChild[] = [];
  t.after(async () => {
    for (const c of children) await c.kill9();
  });
  const spawnNext = (): WriterChild => {
    // A small compaction threshold, so that some kills land while a snapshot is written.
    const c = spawnWriter(dir, 'write', { waitGo: true, env: { WEFT_TEST_COMPACT_BYTES: String(256 * 1024) } });
    children.push(c);
    return c;
  };

  const acked: Acked = { values: new Map(), deleting: new Set(), deleted: new Set(), counter: 0 };
  const started = Date.now();
  let lastRevision = 0;
  let rounds = 0;
  let tornRecoveries = 0;
  let earlyKills = 0;
  let next = spawnNext();
  for (let round = 0; round < ROUNDS; round++) {
    const cur = next;
    // Loading TypeScript takes seconds on a busy machine; opening the store milliseconds. The
    // next child loads while this one writes, and opens the store only when told to.
    await cur.waitFor((l) => l === 'loaded', 60_000);
    cur.go();
    // Every fifth round or so the kill comes within milliseconds of opening: during recovery
    // (cutting a torn end, replaying) or the first writes.
    const early = round > 0 && Math.random() < 0.2;
    if (!early) await cur.waitFor((l) => l.startsWith('ready'), 30_000);
    if (round === 0) {
      // However slow the machine, the first round writes enough for the check to mean something.
      let acks = 0;
      await cur.waitFor((l) => l.startsWith('ack ') && ++acks >= 50, 30_000);
    }
    // At least three rounds however busy the machine; more while the time budget lasts.
    const last = round === ROUNDS - 1 || (round >= 2 && Date.now() - started > BUDGET_MS);
    if (early) earlyKills++;
    if (!last) next = spawnNext();
    await new Promise((resolve) => setTimeout(resolve, early ? Math.random() * 30 : Math.random() * 400));
    await cur.kill9();
    absorb(cur.lines, acked);

    const { revision, warnings } = await verify(dir, acked);
    assert.ok(revision >= lastRevision, `revision went back from ${lastRevision} to ${revision}`);
    lastRevision = revision;
    if (warnings.some((w) => /torn/.test(w))) tornRecoveries++;
    rounds++;
    if (last) break;
  }
  t.diagnostic(
    `${rounds} kills (${earlyKills} right after opening) in ${Date.now() - started} ms; ${acked.values.size} acknowledged creates ` +
      `(${acked.deleted.size} deleted), counter ${acked.counter}, final revision ${lastRevision}, ` +
      `${tornRecoveries} recoveries cut a torn record`,
  );
  assert.ok(acked.values.size >= 50, `only ${acked.values.size} writes were acknowledged: the test did not exercise the store`);
});
