import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from '@weft/proxy';
import { REPO_ROOT } from '@weft/testing';

// Four starters run a sidecar: the bin (its shebang), `weft run`, `weft demo` and the
// benchmark. The last three take the settings from packages/proxy; the shebang cannot
// import them, so this keeps it from drifting.
test('the weft bin starts with the sidecar settings (SIDECAR_ENV, SIDECAR_NODE_FLAGS)', async () => {
  const bin = await readFile(join(REPO_ROOT, 'packages/cli/bin/weft.js'), 'utf8');
  const shebang = bin.split('\n')[0] ?? '';
  const words = shebang.replace(/^#!\/usr\/bin\/env -S /, '').split(' ');
  const node = words.indexOf('node');
  assert.ok(node > 0, shebang);
  assert.deepEqual(Object.fromEntries(words.slice(0, node).map((w) => w.split('=') as [string, string])), SIDECAR_ENV);
  assert.deepEqual(words.slice(node + 1), SIDECAR_NODE_FLAGS);
});
