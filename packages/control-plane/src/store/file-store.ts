import { mkdir, realpath, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DataDirLock } from './data-dir-lock.js';
import { syncDir } from './durable-fs.js';
import type { Entry, Mutation } from './entry.js';
import { StoreError } from './errors.js';
import { frame } from './framing.js';
import { GroupCommitter } from './group-commit.js';
import { LocalStore, type LocalStoreOptions } from './local-store.js';
import { storeLogger, type StoreLogger } from './logger.js';
import { encodeLogRecord, type LogRecord } from './records.js';
import { readSnapshot, writeSnapshot, type SnapshotData } from './snapshot.js';
import { ioStep, WriteAheadLog } from './wal.js';

/** Options of `FileStore.open`. */
export interface FileStoreOptions extends LocalStoreOptions {
  /** The store's own directory (the control plane uses `<data-dir>/store`); created if missing. */
  readonly dir: string;
  /**
   * Write a snapshot and empty the log once the log exceeds this many bytes and is larger
   * than the last snapshot (default 16 MiB), so that compaction costs amortized O(1) per write.
   */
  readonly compactLogBytes?: number;
}

/** Counters for tests, benchmarks and the admin API. */
export interface FileStoreStats {
  /** fsyncs of the log so far (one per batch of concurrent writes). */
  readonly syncs: number;
  /** Snapshots written since open. */
  readonly snapshots: number;
  readonly logBytes: number;
  readonly items: number;
}

/** The snapshot's file name in the store directory. */
export const SNAPSHOT_FILE = 'snapshot.log';
/** The write-ahead log's file name. */
export const LOG_FILE = 'wal.log';

/**
 * The embedded default store: every item in memory, every mutation durable on disk before it
 * is acknowledged, in a directory that one process at a time may open.
 *
 * Why a write-ahead log plus snapshots rather than a file per resource: one append and one
 * fsync per batch of writes (group commit) against, per write, a temp file, its fsync, a
 * rename and a directory fsync; a single total order of mutations, which is exactly the
 * revision sequence that watchers resume from (the log after the snapshot is the watch
 * history across restarts); and no dependence on how a filesystem orders renames.
 *
 * Crash safety, for a `kill -9` or a power loss at any instant:
 * - A write is acknowledged (its promise resolves, watchers see it) only after the log
 *   record holding it was fsynced. So every acknowledged write is in the log or in a
 *   snapshot written after it.
 * - A record being appended when the process dies may be cut short or partly on disk; each
 *   record carries its length and CRC-32, so on open the first damaged record and everything
 *   after it (never acknowledged, since the fsync had not returned) are cut off and reported.
 * - A snapshot is written to a temp file, fsynced, renamed over the old one, and the
 *   directory fsynced; only then is the log emptied. A crash before the rename leaves the old
 *   snapshot and the full log; after it, the new snapshot, and log records at or below its
 *   revision are skipped on open. No moment exists with neither.
 * - If an fsync fails, the store stops accepting writes (`WEFT_ERR_STORE_IO`): after a failed
 *   fsync the page cache may have dropped the data, and only reopening shows what is on disk.
 *
 * Scale: all items are held in memory and each `list` sorts the matching ones. Meant for the
 * resources of a mesh: thousands to tens of thousands of items of a few KB (values are
 * capped at 1 MiB by default), i.e. tens of MB; beyond that, use the etcd backend.
 */
export class FileStore extends LocalStore {
  readonly #dir: string;
  readonly #logger: StoreLogger;
  readonly #lock: DataDirLock;
  readonly #wal: WriteAheadLog;
  readonly #committer: GroupCommitter<Mutation>;
  readonly #compactLogBytes: number;
  #snapshotBytes: number;
  #snapshots = 0;
  /** After a failed compaction, the log size at which to try again. */
  #retryCompactionAt = 0;

  private constructor(
    options: FileStoreOptions,
    logger: StoreLogger,
    parts: { dir: string; lock: DataDirLock; wal: WriteAheadLog; snapshotBytes: number },
  ) {
    super({ ...options, logger });
    this.#dir = parts.dir;
    this.#logger = logger;
    this.#lock = parts.lock;
    this.#wal = parts.wal;
    this.#snapshotBytes = parts.snapshotBytes;
    this.#compactLogBytes = options.compactLogBytes ?? 16 * 1024 * 1024;
    this.#committer = new GroupCommitter(
      (batch) => this.#writeBatch(batch),
      () => this.#maybeCompact(),
    );
  }

  /**
   * Opens (or creates) the store in `options.dir`: takes its lock, loads the snapshot, replays
   * the log after it. Throws `WEFT_ERR_STORE_LOCKED` if another live process has it open,
   * `WEFT_ERR_STORE_CORRUPT` if the files are damaged in a way a crash cannot explain.
   */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    const logger = storeLogger(options.logger);
    // The real path, so that the lock recognizes the same directory reached through a symlink.
    const dir = await ioStep(resolve(options.dir), 'creating', async () => {
      const created = await mkdir(resolve(options.dir), { recursive: true, mode: 0o700 });
      if (created !== undefined) await syncDir(dirname(created));
      return realpath(resolve(options.dir));
    });
    const lock = await DataDirLock.acquire(dir, logger);
    let wal: WriteAheadLog | undefined;
    try {
      const snapshotPath = join(dir, SNAPSHOT_FILE);
      await ioStep(dir, 'cleaning', () => rm(`${snapshotPath}.tmp`, { force: true }));
      const snapshot = await readSnapshot(snapshotPath);
      const snapshotBytes = snapshot === undefined ? 0 : (await stat(snapshotPath)).size;
      const opened = await WriteAheadLog.open(join(dir, LOG_FILE), logger);
      wal = opened.wal;
      const store = new FileStore(options, logger, { dir, lock, wal, snapshotBytes });
      store.#recover(snapshot, opened.records);
      logger.debug({ dir, revision: store.keyspace.revision, items: store.keyspace.size }, 'store opened');
      return store;
    } catch (err) {
      await wal?.close().catch(() => undefined);
      await lock.release();
      throw err;
    }
  }

  /** Counters: fsyncs, snapshots, log size, items. */
  stats(): FileStoreStats {
    return { syncs: this.#wal.syncs, snapshots: this.#snapshots, logBytes: this.#wal.bytes, items: this.keyspace.size };
  }

  protected persist(m: Mutation): Promise<void> {
    return this.#committer.submit(m);
  }

  protected async shutdown(): Promise<void> {
    await this.#committer.drain();
    await this.#wal.close().catch(() => undefined);
    await this.#lock.release();
  }

  /** Loads the snapshot, then applies the log records after it, checking they follow on. */
  #recover(snapshot: SnapshotData | undefined, records: readonly LogRecord[]): void {
    const ks = this.keyspace;
    if (snapshot !== undefined) ks.load(snapshot.entries, snapshot.revision);
    const corrupt = (why: string): StoreError =>
      new StoreError('WEFT_ERR_STORE_CORRUPT', `log ${this.#wal.path}: ${why}; restore the data directory from a backup`, {
        path: this.#wal.path,
      });
    for (const r of records) {
      const revision = r.type === 'put' ? r.entry.modRevision : r.revision;
      if (revision <= ks.revision && snapshot !== undefined) continue; // already in the snapshot
      if (revision !== ks.revision + 1) throw corrupt(`record at revision ${revision} follows revision ${ks.revision}`);
      if (r.type === 'put') {
        const prev: Entry | undefined = ks.get(r.entry.key);
        const created = r.entry.createRevision === revision;
        if (created ? prev !== undefined : prev?.createRevision !== r.entry.createRevision) {
          throw corrupt(`record at revision ${revision} does not fit the state of ${r.entry.key}`);
        }
        ks.apply({ type: 'put', revision, entry: r.entry });
      } else {
        const prev = ks.get(r.key);
        if (prev === undefined) throw corrupt(`record at revision ${revision} deletes ${r.key}, which does not exist`);
        ks.apply({ type: 'delete', revision, key: r.key, prev });
      }
    }
  }

  /** One group-commit batch: append, one fsync, then make visible. */
  async #writeBatch(batch: Mutation[]): Promise<void> {
    try {
      await this.#wal.append(batch.map((m) => frame(encodeLogRecord(m))));
    } catch (err) {
      const error = new StoreError(
        'WEFT_ERR_STORE_IO',
        `writing ${this.#wal.path} failed (${(err as Error).message}); the store accepts no more writes, reopen it`,
        { path: this.#wal.path },
        { cause: err },
      );
      this.#logger.error({ err }, error.message);
      this.fail(error);
      throw error;
    }
    this.keyspace.commit(batch);
  }

  /** Between batches: snapshot and empty the log when it has grown past the threshold and the last snapshot. */
  async #maybeCompact(): Promise<void> {
    const bytes = this.#wal.bytes;
    if (bytes < this.#compactLogBytes || bytes < this.#snapshotBytes || bytes < this.#retryCompactionAt) return;
    const path = join(this.#dir, SNAPSHOT_FILE);
    try {
      this.#snapshotBytes = await writeSnapshot(path, this.keyspace.revision, this.keyspace.list(''));
      this.#snapshots++;
      await this.#wal.reset();
    } catch (err) {
      // The log still holds everything (it is emptied only after the snapshot is in place): go on, retry later.
      this.#retryCompactionAt = bytes + this.#compactLogBytes;
      this.#logger.warn({ err, path }, 'store snapshot failed; the log keeps growing until one succeeds');
    }
  }
}
