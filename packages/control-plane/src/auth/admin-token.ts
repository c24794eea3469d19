import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WeftError } from '@weft/core';
import { createFileExclusive } from '../store/durable-fs.js';

/** The admin token's file name in the data dir. */
export const ADMIN_TOKEN_FILE = 'admin-token';

/** The admin token, where it lives, and whether this call created it. */
export interface AdminToken {
  readonly token: string;
  readonly file: string;
  readonly created: boolean;
}

const TOKEN_BYTES = 32;
const TOKEN_SYNTAX = /^[A-Za-z0-9_-]{16,512}$/;

const errnoCode = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

const readToken = async (file: string): Promise<string> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new WeftError('WEFT_ERR_CONFIG_READ', `${file}: cannot read the admin token: ${errnoCode(err) ?? String(err)}`, { file }, { cause: err });
  }
  const token = text.trim();
  if (!TOKEN_SYNTAX.test(token)) {
    throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${file}: the admin token must be 16 to 512 base64url characters; delete the file to have a new one created`, { file });
  }
  return token;
};

/**
 * Creates the token file atomically: the token is written and fsynced under a temporary
 * name, then hard-linked to its final name, which fails if the file exists. So the file
 * never exists half-written (a crash leaves at most a stray temporary file), and of two
 * processes starting at once one creates it and the other reads it. Returns undefined when
 * the file existed.
 */
const createToken = async (file: string): Promise<string | undefined> => {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  try {
    return (await createFileExclusive(file, `${token}\n`)) ? token : undefined;
  } catch (err) {
    throw new WeftError('WEFT_ERR_CONFIG_READ', `${file}: cannot create the admin token: ${errnoCode(err) ?? String(err)}`, { file }, { cause: err });
  }
};

/**
 * The admin token that the REST API requires (`Authorization: Bearer <token>`): read from
 * `<dataDir>/admin-token`, or created there on first start: 32 random bytes, base64url,
 * in a file of mode 0600 (owner only), in a data dir created with mode 0700 if missing.
 * A token file readable by group or others is narrowed to 0600, because the token grants
 * full control of the mesh. Throws `WEFT_ERR_CONFIG_READ` when the file cannot be read
 * or written, `WEFT_ERR_CONFIG_INVALID` when it holds no plausible token.
 */
export const loadOrCreateAdminToken = async (dataDir: string): Promise<AdminToken> => {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const mode = await stat(file).then(
    (s) => s.mode,
    (err: unknown) => {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw new WeftError('WEFT_ERR_CONFIG_READ', `${file}: cannot read the admin token: ${errnoCode(err) ?? String(err)}`, { file }, { cause: err });
    },
  );
  if (mode === undefined) {
    const created = await createToken(file);
    if (created !== undefined) return { token: created, file, created: true };
  } else if ((mode & 0o077) !== 0) {
    await chmod(file, 0o600);
  }
  return { token: await readToken(file), file, created: false };
};

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether `presented` is `expected`, in time independent of where they differ: both are
 * hashed first, so that neither their contents nor (beyond hashing) their lengths leak
 * through timing, and `timingSafeEqual` compares equal-length digests.
 */
export const tokensEqual = (presented: string, expected: string): boolean => timingSafeEqual(digest(presented), digest(expected));

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, as RFC
 * 7235 says), or undefined when the header is missing or has another scheme.
 */
export const bearerToken = (header: string | undefined): string | undefined => {
  const m = header === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(header);
  return m?.[1];
};

/** Whether an `Authorization` header carries `expected`. */
export const isAuthorized = (header: string | undefined, expected: string): boolean => {
  const presented = bearerToken(header);
  return presented !== undefined && tokensEqual(presented, expected);
};
