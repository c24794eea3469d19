import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

test('docs/reference/cli.md matches the help of every weft command', () => {
  // Defaults that come from the environment are left at their built-in values.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEFT_') && k !== 'NODE_TEST_CONTEXT'));
  const r = spawnSync(process.execPath, ['--conditions=weft-source', '--import', 'tsx', 'scripts/gen-cli-reference.mjs', '--check'], {
    cwd: REPO,
    env,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
});
