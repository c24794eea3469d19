import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from './errors.js';
import { scanFrames } from './framing.js';
import type { StoreLogger } from './logger.js';
import { decodeLogRecord, type LogRecord } from './records.js';
import { syncDir, writeAll } from './durable-fs.js';

/** Largest single `write` the log issues; a batch larger than this goes out in several, then one fsync. */
const MAX_WRITE_BYTES = 4 * 1024 * 1024;

/**
 * The write-ahead log: an append-only file of framed records (`framing.ts`), one per
 * mutation, fsynced (`fdatasync`, which also persists the grown length) before any write in
 * it is acknowledged.
 *
 * On open, a damaged end (a record cut short or never fully written when the process or the
 * machine died) is cut off and reported: such a record was never acknowledged, because its
 * fsync had not returned. Records before it are intact by their CRC.
 */
export class WriteAheadLog {
  readonly #fh: FileHandle;
  readonly #path: string;
  #bytes: number;
  #syncs = 0;

  private constructor(fh: FileHandle, path: string, bytes: number) {
    this.#fh = fh;
    this.#path = path;
    this.#bytes = bytes;
  }

  /**
   * Opens (creating it if needed) the log at `path`, returning the intact records in order.
   * Throws `WEFT_ERR_STORE_CORRUPT` if an intact record is not a valid one (never written by
   * a store), `WEFT_ERR_STORE_IO` if the file cannot be read or repaired.
   */
  static async open(path: string, logger: StoreLogger): Promise<{ wal: WriteAheadLog; records: LogRecord[] }> {
    const buf = await ioStep(path, 'reading', () => readFile(path).catch(enoentAsEmpty));
    const scan = scanFrames(buf);
    const records: LogRecord[] = [];
    for (const [i, payload] of scan.payloads.entries()) {
      const d = decodeLogRecord(payload);
      if ('why' in d) {
        throw new StoreError('WEFT_ERR_STORE_CORRUPT', `log ${path}: record ${i + 1} has a valid checksum but is not a store record: ${d.why}`, {
          path,
        });
      }
      records.push(d.record);
    }
    if (scan.trailingBytes > 0) await cutDamagedEnd(path, buf, scan.validBytes, scan.intactAfterDamage, logger);
    const created = buf.length === 0;
    const fh = await ioStep(path, 'opening', () => open(path, 'a', 0o600));
    if (created) await ioStep(path, 'syncing the directory of', () => syncDir(dirname(path)));
    return { wal: new WriteAheadLog(fh, path, scan.validBytes), records };
  }

  /** Bytes in the log. */
  get bytes(): number {
    return this.#bytes;
  }

  /** fsyncs issued so far (one per appended batch, plus one per reset). */
  get syncs(): number {
    return this.#syncs;
  }

  /** Appends the framed records and fsyncs once; resolves when they are durable. */
  async append(frames: readonly Buffer[]): Promise<void> {
    let group: Buffer[] = [];
    let groupBytes = 0;
    const flush = async (): Promise<void> => {
      if (groupBytes === 0) return;
      await writeAll(this.#fh, group.length === 1 && group[0] ? group[0] : Buffer.concat(group, groupBytes));
      this.#bytes += groupBytes;
      group = [];
      groupBytes = 0;
    };
    for (const f of frames) {
      if (groupBytes + f.length > MAX_WRITE_BYTES) await flush();
      group.push(f);
      groupBytes += f.length;
    }
    await flush();
    await this.#fh.datasync();
    this.#syncs++;
  }

  /** Empties the log (once a snapshot holds everything in it) and fsyncs. */
  async reset(): Promise<void> {
    await this.#fh.truncate(0);
    await this.#fh.sync();
    this.#syncs++;
    this.#bytes = 0;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.#fh.close();
  }

  /** The log's path, for messages. */
  get path(): string {
    return this.#path;
  }
}

const enoentAsEmpty = (err: unknown): Buffer => {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
  throw err;
};

/** Runs `fn`, turning a filesystem failure into `WEFT_ERR_STORE_IO` naming the file. */
export const ioStep = async <T>(path: string, doing: string, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError('WEFT_ERR_STORE_IO', `${doing} ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
};

/**
 * Truncates the log after its last intact record. If intact records follow the damage (a
 * power loss that wrote later blocks of an unacknowledged batch but not earlier ones, or real
 * corruption), the cut bytes are kept beside the log for inspection and an error is logged.
 */
const cutDamagedEnd = async (path: string, buf: Buffer, validBytes: number, intactAfter: boolean, logger: StoreLogger): Promise<void> => {
  const dropped = buf.length - validBytes;
  if (intactAfter) {
    const keep = `${path}.damaged-${Date.now()}`;
    await ioStep(keep, 'writing', () => writeFile(keep, buf.subarray(validBytes), { mode: 0o600 }));
    logger.error(
      { path, offset: validBytes, bytes: dropped, keptIn: keep },
      'store log: a damaged record is followed by intact ones; recovered up to the damage (writes after it were never acknowledged, unless the disk corrupted data)',
    );
  } else {
    logger.warn(
      { path, offset: validBytes, bytes: dropped },
      'store log ended with a torn record (a crash during a write that was never acknowledged); cut it off',
    );
  }
  await ioStep(path, 'truncating', async () => {
    const fh = await open(path, 'r+');
    try {
      await fh.truncate(validBytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  });
};
