import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { StoreError } from './errors.js';
import type { StoreLogger } from './logger.js';

/** Name of the lock file in a store directory. */
export const LOCK_FILE = 'store.lock';

/** Lock files this process holds, by path: a second open from the same process is refused too. */
const held = new Set<string>();

const LockOwner = z.object({ pid: z.number().int().positive(), hostname: z.string(), startTime: z.string().nullable() });
type LockOwner = z.infer<typeof LockOwner>;

/**
 * When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`, field 22), or
 * `null` where there is no /proc. With the PID it names a process uniquely, so a PID that was
 * reused by another process after a crash does not keep the store locked.
 */
export const processStartTime = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
};

/** Whether the lock's owner is (still) a live process, as far as this host can tell. */
const ownerAlive = (o: LockOwner): boolean => {
  if (o.hostname !== hostname()) return true; // another machine (shared filesystem): cannot tell, assume so
  if (o.pid === process.pid) return false; // not in `held`: a previous life of this PID (a restarted container)
  try {
    process.kill(o.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = processStartTime(o.pid);
  return o.startTime === null || now === null || now === o.startTime;
};

/**
 * The single-writer lock on a store directory: a file `store.lock` holding
 * `{pid, hostname, startTime}`, created atomically and exclusively (a complete temp file
 * hard-linked into place). A lock whose process is gone (a crash, a `kill -9`) is stale and
 * taken over, so a restart after a crash needs no manual step; a lock held by a live process
 * makes `acquire` fail with `WEFT_ERR_STORE_LOCKED`, so that two control planes never write
 * one store.
 *
 * Not handled: two processes taking over the same stale lock within the same few
 * microseconds (both may remove it and one then removes the other's fresh lock). Start one
 * control plane per data directory; this lock is the guard against mistakes, not a
 * coordination protocol.
 */
export class DataDirLock {
  readonly #path: string;
  readonly #content: string;
  #released = false;

  private constructor(path: string, content: string) {
    this.#path = path;
    this.#content = content;
  }

  /** Takes the lock on directory `dir` (which must exist). */
  static async acquire(dir: string, logger: StoreLogger): Promise<DataDirLock> {
    const path = join(dir, LOCK_FILE);
    if (held.has(path)) throw locked(path, `this process (pid ${process.pid}) already has the store open`);
    const owner: LockOwner = { pid: process.pid, hostname: hostname(), startTime: processStartTime(process.pid) };
    const content = `${JSON.stringify(owner)}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await createWhole(path, content)) {
        held.add(path);
        await removeStrayTemps(dir);
        return new DataDirLock(path, content);
      }
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) continue; // removed meanwhile: try again
      const parsed = LockOwner.safeParse(parseJson(text));
      if (parsed.success) {
        if (ownerAlive(parsed.data)) {
          const o = parsed.data;
          throw locked(path, `process ${o.pid} on ${o.hostname} has the store open`);
        }
        logger.warn({ path, stalePid: parsed.data.pid }, 'store lock left by a process that is gone; taking it over');
      } else {
        // A lock file appears whole (see `createWhole`), so an unreadable one was damaged or edited.
        logger.warn({ path }, 'store lock file is unreadable; taking it over');
      }
      await unlink(path).catch(() => undefined);
    }
    throw locked(path, 'the lock kept changing hands');
  }

  /** Removes the lock file (if it is still ours). Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    held.delete(this.#path);
    const text = await readFile(this.#path, 'utf8').catch(() => undefined);
    if (text === this.#content) await unlink(this.#path).catch(() => undefined);
  }
}

/**
 * Creates `path` holding `content`, failing (false) if it exists. The content is written to a
 * temp file first and hard-linked into place (`link` fails atomically if the name exists), so
 * the lock file never exists empty: a process killed halfway leaves no lock, or a whole one.
 * Filesystems without hard links fall back to `O_EXCL` create-then-write.
 */
const createWhole = async (path: string, content: string): Promise<boolean> => {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const ioError = (err: unknown): StoreError =>
    new StoreError('WEFT_ERR_STORE_IO', `creating ${path}: ${(err as Error).message}`, { path }, { cause: err });
  try {
    await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw ioError(err);
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw ioError(err);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  try {
    await writeFile(path, content, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw ioError(err);
  }
};

/** Deletes temp files of lock attempts by processes killed mid-way (only the lock holder calls this). */
const removeStrayTemps = async (dir: string): Promise<void> => {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) {
    if (n.startsWith(`${LOCK_FILE}.`) && n.endsWith('.tmp')) await unlink(join(dir, n)).catch(() => undefined);
  }
};

const locked = (path: string, why: string): StoreError =>
  new StoreError(
    'WEFT_ERR_STORE_LOCKED',
    `the store in ${path.slice(0, -LOCK_FILE.length - 1)} is locked: ${why}. Stop that process first; ` +
      `if you are sure no process uses the directory, delete ${path}`,
    { path },
  );

const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return undefined;
  }
};
