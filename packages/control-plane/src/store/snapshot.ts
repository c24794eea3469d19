import { readFile } from 'node:fs/promises';
import { StoreError } from './errors.js';
import type { Entry } from './entry.js';
import { frame, scanFrames } from './framing.js';
import { decodeSnapshotHeader, decodeSnapshotItem, encodeSnapshotHeader, encodeSnapshotItem } from './records.js';
import { writeFileAtomic } from './durable-fs.js';

/** A snapshot's contents: every item at `revision`. */
export interface SnapshotData {
  readonly revision: number;
  readonly entries: Entry[];
}

/**
 * Writes the state at `revision` to `path` atomically (temp file, fsync, rename, directory
 * fsync); returns the bytes written. `entries` should be in key order, so the file diffs well.
 */
export const writeSnapshot = (path: string, revision: number, entries: readonly Entry[]): Promise<number> => {
  function* chunks(): Generator<Buffer> {
    yield frame(encodeSnapshotHeader(revision, entries.length));
    for (const e of entries) yield frame(encodeSnapshotItem(e));
  }
  return writeFileAtomic(path, chunks());
};

const corrupt = (path: string, why: string): StoreError =>
  new StoreError(
    'WEFT_ERR_STORE_CORRUPT',
    `snapshot ${path} is damaged (${why}); it is only ever replaced whole by a rename, so this is disk ` +
      'corruption or an edit: restore the data directory from a backup',
    { path },
  );

/**
 * Reads the snapshot at `path`: `undefined` if there is none. Throws `WEFT_ERR_STORE_CORRUPT`
 * for any damage, because a snapshot is never torn by a crash (it appears whole by rename),
 * so damage means the data can no longer be trusted and must not be silently dropped.
 */
export const readSnapshot = async (path: string): Promise<SnapshotData | undefined> => {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('WEFT_ERR_STORE_IO', `reading ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  const scan = scanFrames(buf);
  if (scan.trailingBytes > 0) throw corrupt(path, `${scan.trailingBytes} bytes at offset ${scan.validBytes} are not an intact record`);
  const [head, ...items] = scan.payloads;
  if (head === undefined) throw corrupt(path, 'no header');
  const h = decodeSnapshotHeader(head);
  if ('why' in h) throw corrupt(path, `header: ${h.why}`);
  if (h.count !== items.length) throw corrupt(path, `header says ${h.count} items, file holds ${items.length}`);
  const entries: Entry[] = [];
  for (const [i, p] of items.entries()) {
    const d = decodeSnapshotItem(p);
    if ('why' in d) throw corrupt(path, `item ${i}: ${d.why}`);
    if (d.entry.modRevision > h.revision) throw corrupt(path, `item ${d.entry.key} is newer than the snapshot`);
    entries.push(d.entry);
  }
  return { revision: h.revision, entries };
};
