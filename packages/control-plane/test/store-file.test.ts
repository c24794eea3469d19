/**
 * The embedded file store: the shared contract, then what only a disk backend has to show:
 * persistence across reopen, compaction, torn and damaged logs, corrupt files, the
 * single-writer lock, group commit.
 */
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileStore, LOG_FILE, SNAPSHOT_FILE, type FileStoreOptions, type StoreKey } from '../src/store/index.js';
import { processStartTime, LOCK_FILE } from '../src/store/data-dir-lock.js';
import { frame } from '../src/store/framing.js';
import { collector, rejectsWith, storeContract } from './store-contract.js';
import { recordingLogger, silentLogger, spawnWriter, tempDir } from './fixtures/store-helpers.js';

const suite = { after };

storeContract('file', async (options) => FileStore.open({ ...options, dir: await tempDir(suite, 'store-contract'), logger: silentLogger }));

const k = (name: string, kind = 'Service', namespace = 'default'): StoreKey => ({ kind, namespace, name });

const open = (dir: string, extra: Partial<FileStoreOptions> = {}): Promise<FileStore> => FileStore.open({ dir, logger: silentLogger, ...extra });

/** Everything a store holds, as plain data, for before/after comparisons. */
const dump = async (s: FileStore): Promise<unknown> => ({ ...(await s.list()) });

describe('file store: persistence', () => {
  test('items, revisions and deletions survive close and reopen; revisions continue', async (t) => {
    const dir = await tempDir(t);
    const s1 = await open(dir);
    await s1.create(k('a'), { v: 1 });
    await s1.create(k('b'), { v: 1 });
    await s1.update(k('a'), { v: 2, nested: { list: [1, 'two', null, true] } });
    await s1.delete(k('b'));
    await s1.create(k('m', 'Mesh', ''), { v: 1 });
    const before = await dump(s1);
    const rev = await s1.revision();
    await s1.close();

    const s2 = await open(dir);
    assert.deepEqual(await dump(s2), before);
    assert.equal(await s2.revision(), rev);
    assert.equal(await s2.get(k('b')), undefined);
    const c = await s2.create(k('b'), { v: 'again' });
    assert.equal(c.createRevision, rev + 1);
    await s2.close();

    const s3 = await open(dir);
    assert.deepEqual((await s3.get(k('b')))?.value, { v: 'again' });
    await s3.close();
  });

  test('a watch can resume across a restart from revisions still in the log', async (t) => {
    const dir = await tempDir(t);
    const s1 = await open(dir);
    for (let i = 0; i < 5; i++) await s1.create(k(`s${i}`), { i });
    await s1.delete(k('s0'));
    await s1.close();
    const s2 = await open(dir);
    const c = collector();
    const w = s2.watch(3, c.onEvent);
    await s2.create(k('s9'), { i: 9 });
    const evs = await c.until(5);
    assert.deepEqual(
      evs.map((e) => `${e.type}:${e.type === 'put' || e.type === 'delete' ? e.revision : ''}`),
      ['put:3', 'put:4', 'put:5', 'delete:6', 'put:7'],
    );
    await w.close();
    await s2.close();
  });

  test('the log is compacted into a snapshot; state, revisions and the recent watch history survive', async (t) => {
    const dir = await tempDir(t);
    const s1 = await open(dir, { compactLogBytes: 8 * 1024 });
    for (let i = 0; i < 300; i++) {
      await s1.create(k(`s${i % 60}-${Math.floor(i / 60)}`), { i, pad: 'p'.repeat(100) });
      if (i % 3 === 0) await s1.update(k(`s${i % 60}-${Math.floor(i / 60)}`), { i, updated: true });
      if (i % 5 === 0) await s1.delete(k(`s${i % 60}-${Math.floor(i / 60)}`));
    }
    const before = await dump(s1);
    const rev = await s1.revision();
    await s1.close();
    const stats = s1.stats();
    assert.ok(stats.snapshots >= 3, `snapshots: ${stats.snapshots}`);
    assert.ok(stats.logBytes < 64 * 1024, `log bytes: ${stats.logBytes}`);
    assert.ok((await stat(join(dir, SNAPSHOT_FILE))).size > 0);

    const s2 = await open(dir);
    assert.deepEqual(await dump(s2), before);
    // What the log still holds can be resumed from; what only the snapshot holds is compacted.
    const recent = collector();
    const w = s2.watch(rev, recent.onEvent);
    const old = collector();
    s2.watch(1, old.onEvent);
    const [r] = await recent.until(1);
    const [o] = await old.until(1);
    assert.ok(r?.type === 'put' || r?.type === 'delete', JSON.stringify(r));
    assert.equal(o?.type, 'compacted');
    await w.close();
    await s2.close();
  });

  test('a crash between writing a snapshot and emptying the log is recovered (log records already in the snapshot are skipped)', async (t) => {
    const dir = await tempDir(t);
    const s1 = await open(dir);
    for (let i = 0; i < 20; i++) await s1.create(k(`s${i}`), { i });
    await s1.close();
    const oldLog = await readFile(join(dir, LOG_FILE));
    const s2 = await open(dir, { compactLogBytes: 1 });
    await s2.update(k('s0'), { i: 'updated' });
    const before = await dump(s2);
    await s2.close(); // compaction runs between batches, after the write was acknowledged; close waits for it
    assert.equal(s2.stats().snapshots, 1);
    assert.equal((await stat(join(dir, LOG_FILE))).size, 0);
    await writeFile(join(dir, LOG_FILE), oldLog); // as if the truncate never happened
    await writeFile(join(dir, `${SNAPSHOT_FILE}.tmp`), 'half a snapshot from a crash'); // and a later snapshot died half-written

    const s3 = await open(dir);
    assert.deepEqual(await dump(s3), before);
    await s3.create(k('after'), { v: 1 });
    await s3.close();
    assert.ok(!(await readdir(dir)).includes(`${SNAPSHOT_FILE}.tmp`));
    const s4 = await open(dir);
    assert.deepEqual((await s4.get(k('after')))?.value, { v: 1 });
    assert.deepEqual((await s4.get(k('s0')))?.value, { i: 'updated' });
    await s4.close();
  });
});

describe('file store: damaged files', () => {
  /** A store with three items, closed; returns its dir and the log size. */
  const seeded = async (t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; logSize: number; before: unknown }> => {
    const dir = await tempDir(t);
    const s = await open(dir);
    await s.create(k('a'), { v: 1 });
    await s.create(k('b'), { v: 2 });
    await s.update(k('a'), { v: 3 });
    const before = await dump(s);
    await s.close();
    return { dir, logSize: (await stat(join(dir, LOG_FILE))).size, before };
  };

  const nextRecord = frame(`{"rev":4,"op":"put","key":"Service/default/torn","cr":4,"value":{"v":"torn"}}`);
  const torn: [string, Buffer][] = [
    ['half a record', nextRecord.subarray(0, Math.floor(nextRecord.length / 2))],
    ['a record without its newline', nextRecord.subarray(0, nextRecord.length - 1)],
    ['only part of a header', nextRecord.subarray(0, 7)],
    ['a whole record with one byte wrong (CRC mismatch)', Buffer.from(nextRecord.toString('latin1').replace('torn"}', 'tOrn"}'), 'latin1')],
    ['zeros (blocks allocated but never written, after a power loss)', Buffer.alloc(4096)],
  ];

  for (const [what, tail] of torn) {
    test(`a torn last record (${what}) is cut off and reported; earlier writes are intact`, async (t) => {
      const { dir, logSize, before } = await seeded(t);
      await appendFile(join(dir, LOG_FILE), tail);
      const rec = recordingLogger();
      const s = await FileStore.open({ dir, logger: rec.logger });
      assert.deepEqual(await dump(s), before);
      assert.equal(await s.get(k('torn')), undefined);
      const warn = rec.lines.find((l) => l.level === 'warn' && /torn/.test(l.msg));
      assert.ok(warn, `expected a warning, got ${JSON.stringify(rec.lines)}`);
      assert.equal(warn.fields['offset'], logSize);
      assert.equal(warn.fields['bytes'], tail.length);
      assert.equal((await stat(join(dir, LOG_FILE))).size, logSize, 'the torn bytes are gone from the file');
      const c = await s.create(k('torn'), { v: 'fine' });
      assert.equal(c.modRevision, 4);
      await s.close();
      const s2 = await open(dir);
      assert.deepEqual((await s2.get(k('torn')))?.value, { v: 'fine' });
      await s2.close();
    });
  }

  test('damage followed by intact records: recovered up to the damage, the rest kept aside and logged as an error', async (t) => {
    const { dir, logSize, before } = await seeded(t);
    const garbage = Buffer.concat([Buffer.from('garbage\n'), frame('{"rev":5,"op":"del","key":"Service/default/a"}')]);
    await appendFile(join(dir, LOG_FILE), garbage);
    const rec = recordingLogger();
    const s = await FileStore.open({ dir, logger: rec.logger });
    assert.deepEqual(await dump(s), before);
    assert.ok(rec.lines.some((l) => l.level === 'error' && /damaged record is followed by intact ones/.test(l.msg)));
    const kept = (await readdir(dir)).find((f) => f.startsWith(`${LOG_FILE}.damaged-`));
    assert.ok(kept !== undefined);
    assert.deepEqual(await readFile(join(dir, kept)), garbage);
    assert.equal((await stat(join(dir, LOG_FILE))).size, logSize);
    await s.close();
  });

  test('an intact record that does not follow on (a revision gap) is corruption: open refuses with CORRUPT and releases the lock', async (t) => {
    const { dir } = await seeded(t);
    await appendFile(join(dir, LOG_FILE), frame('{"rev":9,"op":"del","key":"Service/default/a"}'));
    await rejectsWith(open(dir), 'WEFT_ERR_STORE_CORRUPT', 500);
    assert.ok(!(await readdir(dir)).includes(LOCK_FILE));
  });

  test('an intact record that is not a store record is corruption', async (t) => {
    const { dir } = await seeded(t);
    await appendFile(join(dir, LOG_FILE), frame('{"rev":4,"op":"explode"}'));
    await rejectsWith(open(dir), 'WEFT_ERR_STORE_CORRUPT');
  });

  test('a damaged snapshot is corruption, never silently dropped', async (t) => {
    const dir = await tempDir(t);
    const s = await open(dir, { compactLogBytes: 1 });
    for (let i = 0; i < 5; i++) await s.create(k(`s${i}`), { i });
    await s.close();
    const path = join(dir, SNAPSHOT_FILE);
    const size = (await stat(path)).size;
    await truncate(path, size - 10);
    const err = await rejectsWith(open(dir), 'WEFT_ERR_STORE_CORRUPT', 500);
    assert.match(err.message, /snapshot/);
    await writeFile(path, '');
    await rejectsWith(open(dir), 'WEFT_ERR_STORE_CORRUPT');
  });
});

describe('file store: single writer lock', () => {
  test('a second open in the same process is refused until the first closes', async (t) => {
    const dir = await tempDir(t);
    const s1 = await open(dir);
    const err = await rejectsWith(open(dir), 'WEFT_ERR_STORE_LOCKED', 500);
    assert.match(err.message, /this process/);
    await s1.close();
    const s2 = await open(dir);
    await s2.close();
    assert.ok(!(await readdir(dir)).includes(LOCK_FILE), 'close removes the lock file');
  });

  test('the same directory reached through a symlink is the same store', { skip: process.platform === 'win32' }, async (t) => {
    const dir = await tempDir(t);
    const link = join(await tempDir(t), 'link');
    await symlink(dir, link);
    const s1 = await open(dir);
    await rejectsWith(open(link), 'WEFT_ERR_STORE_LOCKED');
    await s1.close();
  });

  test('a store held by another live process is refused; once that process is killed, its stale lock is taken over', async (t) => {
    const dir = await tempDir(t);
    const holder = spawnWriter(dir, 'hold');
    t.after(holder.kill9);
    await holder.waitFor((l) => l.startsWith('ready'), 60_000);
    const err = await rejectsWith(open(dir), 'WEFT_ERR_STORE_LOCKED', 500);
    assert.match(err.message, new RegExp(`process ${holder.child.pid ?? -1} `));
    await holder.kill9();
    const rec = recordingLogger();
    const s = await FileStore.open({ dir, logger: rec.logger });
    assert.ok(rec.lines.some((l) => l.level === 'warn' && /gone/.test(l.msg) && l.fields['stalePid'] === holder.child.pid));
    await s.close();
  });

  test('a lock naming a live PID whose start time differs (the PID was reused) is stale', { skip: processStartTime(process.pid) === null ? 'no /proc' : false }, async (t) => {
    const dir = await tempDir(t);
    const pid = process.ppid;
    const write = (startTime: string | null): Promise<void> =>
      writeFile(join(dir, LOCK_FILE), `${JSON.stringify({ pid, hostname: hostname(), startTime })}\n`);
    await write(processStartTime(pid));
    await rejectsWith(open(dir), 'WEFT_ERR_STORE_LOCKED');
    await write('1');
    const s = await open(dir);
    await s.close();
  });

  test('an unreadable lock file (a lock appears whole, so it was damaged) is taken over with a warning; stray lock temp files are removed', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, LOCK_FILE), '');
    await writeFile(join(dir, `${LOCK_FILE}.12345.abcd.tmp`), '{"pid":12345');
    const rec = recordingLogger();
    const s = await FileStore.open({ dir, logger: rec.logger });
    assert.ok(rec.lines.some((l) => l.level === 'warn' && /unreadable/.test(l.msg)));
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith(LOCK_FILE)), [LOCK_FILE]);
    await s.close();
  });

  test('a lock from another host is respected (it cannot be checked from here)', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, LOCK_FILE), `${JSON.stringify({ pid: 1, hostname: `not-${hostname()}`, startTime: null })}\n`);
    const err = await rejectsWith(open(dir), 'WEFT_ERR_STORE_LOCKED');
    assert.match(err.message, /delete .*store\.lock/);
  });
});

describe('file store: write failures', () => {
  test(
    'when the disk refuses a write (EFBIG under ulimit -f) the store fails closed: IO error, no more writes, watches end; every acknowledged write survives',
    { skip: process.platform === 'win32' ? 'no ulimit' : false },
    async (t) => {
      const dir = await tempDir(t);
      const child = spawnWriter(dir, 'fill', { fileSizeLimitBlocks: 128, env: { WEFT_TEST_COMPACT_BYTES: String(1 << 30) } });
      t.after(child.kill9);
      const { code } = await child.exited;
      assert.equal(code, 0, child.stderr());
      const lines = child.lines;
      assert.ok(lines.includes('failed WEFT_ERR_STORE_IO'), lines.slice(-5).join('\n'));
      assert.ok(lines.includes('after WEFT_ERR_STORE_IO'), 'later writes are refused');
      assert.ok(lines.includes('watch error'), 'watches end with an error event');
      assert.ok(lines.includes('closed'));
      const acked = lines.filter((l) => l.startsWith('ack ')).map((l) => JSON.parse(l.slice(4)) as { key: string; value: unknown });
      assert.ok(acked.length > 10);

      const rec = recordingLogger();
      const s = await FileStore.open({ dir, logger: rec.logger });
      const { items } = await s.list({ kind: 'Item', namespace: 'fill' });
      const present = new Map(items.map((i) => [`Item/fill/${i.key.name}`, i.value]));
      for (const a of acked) assert.deepEqual(present.get(a.key), a.value, a.key);
      assert.ok(items.length <= acked.length + 1, 'at most the write that failed is there besides the acknowledged ones');
      assert.ok(rec.lines.some((l) => /torn/.test(l.msg)), 'the partly written record was cut off');
      await s.create(k('works-again'), { v: 1 });
      await s.close();
    },
  );
});

describe('file store: group commit', () => {
  test('1000 concurrent creates share a few fsyncs, not 1000; a lone write is one fsync', async (t) => {
    const dir = await tempDir(t);
    const s = await open(dir);
    const s0 = s.stats().syncs;
    await s.create(k('lone'), { v: 1 });
    assert.equal(s.stats().syncs - s0, 1);
    const s1 = s.stats().syncs;
    const started = performance.now();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => s.create(k(`c${i}`), { i })));
    const ms = performance.now() - started;
    const syncs = s.stats().syncs - s1;
    t.diagnostic(`1000 concurrent creates: ${syncs} fsyncs, ${ms.toFixed(0)} ms`);
    assert.ok(syncs <= 10, `fsyncs: ${syncs}`);
    assert.equal((await s.list()).items.length, 1001);
    await s.close();
  });

  test('the files are private to the owner (0600)', { skip: process.platform === 'win32' }, async (t) => {
    const dir = await tempDir(t);
    const s = await open(dir, { compactLogBytes: 1 });
    await s.create(k('a'), { secret: 'x' });
    assert.equal((await stat(join(dir, LOCK_FILE))).mode & 0o777, 0o600, LOCK_FILE);
    await s.close();
    for (const f of [LOG_FILE, SNAPSHOT_FILE]) assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
    assert.equal((await stat(dir)).mode & 0o777, 0o700, 'the directory');
  });
});
