import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { createTmpDir } from './tmp-dir.js';

test('creates a unique empty directory and removes it with its contents', async () => {
  const a = await createTmpDir({ prefix: 'x' });
  const b = await createTmpDir({ prefix: 'x' });
  assert.notEqual(a.path, b.path);
  writeFileSync(a.join('f.txt'), 'data');
  await a.remove();
  await a.remove();
  await b.remove();
  assert.equal(existsSync(a.path), false);
  assert.equal(existsSync(b.path), false);
});
