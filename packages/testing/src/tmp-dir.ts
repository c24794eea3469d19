import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, empty directory that a test owns; `remove()` deletes it and all it holds. */
export interface TmpDir {
  /** Absolute path of the directory. */
  readonly path: string;
  /** `path` joined with `parts`. */
  readonly join: (...parts: string[]) => string;
  /** Deletes the directory recursively; safe to call more than once. Bound, so `t.after(dir.remove)` works. */
  readonly remove: () => Promise<void>;
}

/**
 * Creates a unique directory under the OS temp dir, named `weft-<prefix>-XXXXXX`.
 * Pass `t` (a node:test context or anything with `after`) to have it removed when the test ends.
 */
export const createTmpDir = async (
  opts: { prefix?: string; t?: { after: (fn: () => Promise<void>) => void } } = {},
): Promise<TmpDir> => {
  const path = await mkdtemp(join(tmpdir(), `weft-${opts.prefix ?? 'test'}-`));
  const dir: TmpDir = {
    path,
    join: (...parts) => join(path, ...parts),
    remove: () => rm(path, { recursive: true, force: true }),
  };
  opts.t?.after(dir.remove);
  return dir;
};
