import { chmod, mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WeftError } from '@weft/core';
import { createFileExclusive, syncDir, writeFileAtomic } from '../store/durable-fs.js';

/**
 * The files of the CA in `<dataDir>/ca/` (mode 0700):
 *
 * - `state.json`: which roots are trusted and which one signs (the rotation phase);
 * - `root-<id>.crt` / `root-<id>.key`: each trusted root and its key (0600), `<id>` the
 *   first 16 hex digits of the root's public-key hash;
 * - `ca.crt`: the trust bundle (every root trusted now), rewritten from the state on every
 *   change and on every start, for people and tools (`weft check`, `openssl verify -CAfile`);
 * - `archive/`: retired roots, and root files no state ever named (a crash while a new root
 *   was being introduced); kept, never deleted, because they are key material;
 * - `token-secret`: the HMAC key of join tokens (0600).
 *
 * Every file is written whole under a temporary name, fsynced and renamed (or linked) into
 * place, so a crash leaves the old content or the new, never a mix.
 */

export const CA_DIR = 'ca';
export const STATE_FILE = 'state.json';
export const BUNDLE_FILE = 'ca.crt';
export const ARCHIVE_DIR = 'archive';
export const TOKEN_SECRET_FILE = 'token-secret';

/** The certificate and key file names of a root. */
export const rootFiles = (dir: string, id: string): { cert: string; key: string } => ({ cert: join(dir, `root-${id}.crt`), key: join(dir, `root-${id}.key`) });

/** Root ids of the `root-<id>.crt|key` files in a directory. */
export const rootIdsIn = async (dir: string): Promise<string[]> => {
  const ids = new Set<string>();
  for (const name of await readdir(dir)) {
    const m = /^root-([0-9a-f]{16})\.(crt|key)$/.exec(name);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  return [...ids].sort();
};

export const errnoCode = (err: unknown): string | undefined => (err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined);

const ioError = (what: string, file: string, err: unknown): WeftError =>
  new WeftError('WEFT_ERR_CONFIG_READ', `${file}: cannot ${what}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`, { file }, { cause: err });

/** Creates `dir` (and its parents) if missing and narrows it to 0700: it holds private keys. */
export const ensurePrivateDir = async (dir: string): Promise<void> => {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
  } catch (err) {
    throw ioError('create the directory', dir, err);
  }
};

/** Narrows a file holding a secret to mode 0600 when group or others may read it. */
export const narrowToOwner = async (file: string): Promise<void> => {
  try {
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  } catch (err) {
    throw ioError('narrow the mode of', file, err);
  }
};

/** The text of a file, or undefined when it does not exist. */
export const readOptional = async (file: string): Promise<string | undefined> => {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw ioError('read', file, err);
  }
};

/** Replaces `file` with `text` crash-safely (temporary file, fsync, rename, fsync of the directory), mode 0600. */
export const writeDurably = async (file: string, text: string): Promise<void> => {
  try {
    await writeFileAtomic(file, [Buffer.from(text, 'utf8')]);
  } catch (err) {
    throw ioError('write', file, err);
  }
};

/** {@link createFileExclusive}, its I/O errors named as the CA's (`WEFT_ERR_CONFIG_READ`). */
export const createExclusive = async (file: string, text: string): Promise<boolean> => {
  try {
    return await createFileExclusive(file, text);
  } catch (err) {
    throw ioError('create', file, err);
  }
};

/** Moves files that exist into `archiveDir` (0700), keeping their names; missing ones are skipped. */
export const archiveFiles = async (files: readonly string[], archiveDir: string): Promise<void> => {
  await ensurePrivateDir(archiveDir);
  for (const file of files) {
    try {
      await rename(file, join(archiveDir, basename(file)));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw ioError('archive', file, err);
    }
  }
  await syncDir(archiveDir);
  if (files[0] !== undefined) await syncDir(dirname(files[0]));
};

/** Deletes the temporary files a crash mid-write may have left (`*.tmp`). */
export const removeTemporaryFiles = async (dir: string): Promise<void> => {
  for (const name of await readdir(dir)) {
    if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => undefined);
  }
};
