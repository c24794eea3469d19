import { randomBytes } from 'node:crypto';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes all of `buf` at the handle's position (append for an `O_APPEND` handle), looping over short writes. */
export const writeAll = async (fh: FileHandle, buf: Buffer): Promise<void> => {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
};

/**
 * fsyncs directory `dir`, so that a file just created, renamed or deleted in it is still
 * there (or gone) after a power loss; without it a renamed file's data is durable but its
 * name may not be. Windows cannot open directories, and its rename is durable by itself.
 */
export const syncDir = async (dir: string): Promise<void> => {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
};

/**
 * Replaces `path` atomically with the concatenation of `chunks`: writes `path.tmp`, fsyncs
 * it, renames it over `path`, fsyncs the directory. A crash at any point leaves either the
 * whole old file or the whole new one (plus, perhaps, a `.tmp` file for the next open to
 * delete).
 */
export const writeFileAtomic = async (path: string, chunks: Iterable<Buffer>): Promise<number> => {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  let bytes = 0;
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const c of chunks) {
      batch.push(c);
      batchBytes += c.length;
      if (batchBytes >= 1 << 20) {
        await writeAll(fh, Buffer.concat(batch));
        bytes += batchBytes;
        batch = [];
        batchBytes = 0;
      }
    }
    await writeAll(fh, Buffer.concat(batch));
    bytes += batchBytes;
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
  return bytes;
};

/**
 * Creates `file` with `text` (mode 0600) unless it exists: written and fsynced under a
 * temporary name, then hard-linked into place, which fails when the name is taken. Of two
 * processes racing, one creates it; both then read the same content. Returns whether this
 * call created it; I/O errors are thrown as they are, for the caller to name.
 */
export const createFileExclusive = async (file: string, text: string): Promise<boolean> => {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, file);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return false;
      throw err;
    }
    await syncDir(dirname(file));
    return true;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
};
