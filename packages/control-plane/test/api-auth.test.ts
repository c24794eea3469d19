import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bearerToken, isAuthorized, loadOrCreateAdminToken } from '../src/auth/index.js';
import { tempDir } from './fixtures/store-helpers.js';

describe('admin token', () => {
  test('created on first start: 32 random bytes base64url, mode 0600, in a data dir created 0700', async (t) => {
    const dataDir = join(await tempDir(t, 'auth'), 'nested', '.weft');
    const first = await loadOrCreateAdminToken(dataDir);
    assert.equal(first.created, true);
    assert.match(first.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(first.token, 'base64url').length, 32);
    assert.equal(first.file, join(dataDir, 'admin-token'));
    assert.equal((await stat(first.file)).mode & 0o777, 0o600);
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    assert.equal((await readFile(first.file, 'utf8')).trim(), first.token);
    assert.deepEqual(await readdir(dataDir), ['admin-token'], 'no temporary file left behind');
  });

  test('read back on later starts; a token file readable by others is narrowed to 0600', async (t) => {
    const dataDir = await tempDir(t, 'auth');
    const first = await loadOrCreateAdminToken(dataDir);
    await chmod(first.file, 0o644);
    const second = await loadOrCreateAdminToken(dataDir);
    assert.deepEqual([second.token, second.created], [first.token, false]);
    assert.equal((await stat(first.file)).mode & 0o777, 0o600);
  });

  test('starts racing each other agree on one token', async (t) => {
    const dataDir = await tempDir(t, 'auth');
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateAdminToken(dataDir)));
    assert.equal(new Set(all.map((a) => a.token)).size, 1);
    assert.equal(all.filter((a) => a.created).length, 1);
  });

  test('a file that holds no plausible token is an error naming it, not an open door', async (t) => {
    const dataDir = await tempDir(t, 'auth');
    await writeFile(join(dataDir, 'admin-token'), '\n', { mode: 0o600 });
    await assert.rejects(loadOrCreateAdminToken(dataDir), (err: Error & { code?: string }) => err.code === 'WEFT_ERR_CONFIG_INVALID' && err.message.includes('admin-token'));
  });

  test('Authorization header checks', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz012345';
    assert.equal(bearerToken(`Bearer ${token}`), token);
    assert.equal(bearerToken(`bearer ${token}`), token, 'the scheme is case-insensitive');
    assert.equal(bearerToken(`Basic ${token}`), undefined);
    assert.equal(bearerToken(undefined), undefined);
    assert.ok(isAuthorized(`Bearer ${token}`, token));
    for (const wrong of [undefined, '', 'Bearer', `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Bearer ${token} extra`, token]) {
      assert.equal(isAuthorized(wrong, token), false, String(wrong));
    }
  });
});
