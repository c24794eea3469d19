import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { WeftError } from '@weft/core';
import { CA_DIR, createExclusive, ensurePrivateDir, narrowToOwner, readOptional, TOKEN_SECRET_FILE } from './ca-files.js';

const SECRET_BYTES = 32;

/**
 * The HMAC key of join tokens: 32 random bytes (base64url) in `<dataDir>/ca/token-secret`,
 * mode 0600, created on first use (exclusively: of two processes starting at once, one
 * creates it and both use it). Anyone who reads it can mint tokens for any service, so a
 * file readable by others is narrowed to 0600; replacing it invalidates every token.
 */
export const loadOrCreateTokenSecret = async (dataDir: string): Promise<Buffer> => {
  const dir = join(resolve(dataDir), CA_DIR);
  await ensurePrivateDir(dir);
  const file = join(dir, TOKEN_SECRET_FILE);
  if ((await readOptional(file)) === undefined) await createExclusive(file, `${randomBytes(SECRET_BYTES).toString('base64url')}\n`);
  await narrowToOwner(file);
  const text = (await readOptional(file)) ?? '';
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length !== SECRET_BYTES || secret.toString('base64url') !== text.trim()) {
    throw new WeftError('WEFT_ERR_CA_FILES_INVALID', `${file}: must hold ${SECRET_BYTES} bytes in base64url; delete it to have a new one made (every join token made so far then stops working)`, { file });
  }
  return secret;
};
