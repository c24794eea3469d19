import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createTmpDir } from './tmp-dir.js';
import { REPO_ROOT, WEFT_CLI_MAIN, startWeft } from './weft-process.js';

// A stand-in for the CLI, in TypeScript so that the tsx loader is exercised too.
const FAKE_WEFT = `
const mode: string = process.argv[2] ?? 'normal';
// The handler comes before any output: the parent signals as soon as it reads a line.
process.on('SIGTERM', () => {
  if (mode === 'stubborn') return;
  process.stdout.write('draining, no newline');
  setTimeout(() => process.exit(0), 20);
});
console.log('started ' + process.argv.slice(2).join(' '));
console.log('test context: ' + (process.env['NODE_TEST_CONTEXT'] ?? 'none') + ', extra: ' + (process.env['EXTRA'] ?? 'none'));
console.error(JSON.stringify({ level: 30, msg: 'listening', port: 4321 }));
if (mode === 'exit') process.exit(3);
if (mode === 'stdin') process.stdin.on('data', (d) => console.log('stdin: ' + String(d).trim()));
setInterval(() => {}, 1000);
`;

const fake = async (t: { after: (fn: () => Promise<void>) => void }): Promise<string> => {
  const dir = await createTmpDir({ prefix: 'fake-weft', t });
  const entry = dir.join('fake-weft.ts');
  await writeFile(entry, FAKE_WEFT);
  return entry;
};

test('the CLI entry point is resolved from the repository root', () => {
  assert.ok(existsSync(`${REPO_ROOT}/packages/testing/package.json`));
  assert.equal(WEFT_CLI_MAIN, `${REPO_ROOT}/packages/cli/src/main.ts`);
});

test('captures lines from both streams, waits for them, and stops gracefully', async (t) => {
  const entry = await fake(t);
  const weft = startWeft(['normal', '--flag'], { entry, t, env: { EXTRA: 'set' } });
  const started = await weft.waitForLine(/^started (.*)$/);
  assert.equal(started[1], 'normal --flag');
  const port = await weft.waitForLine(/"port":(\d+)/, 10_000, { stream: 'stderr' });
  assert.equal(port[1], '4321');
  await weft.waitForLine(/test context: none, extra: set/);

  const mark = weft.lineCount;
  await assert.rejects(weft.waitForLine(/^started/, 300, { since: mark }), /within 300 ms[\s\S]*stdout\| started/);

  assert.equal(await weft.stop(), 0);
  assert.equal(weft.exit?.code, 0);
  // The last line had no newline: it is still captured at exit.
  assert.ok(weft.lines.some((l) => l.stream === 'stdout' && l.text === 'draining, no newline'), weft.output());
});

test('waitForLine fails fast when the process exits first', async (t) => {
  const entry = await fake(t);
  const weft = startWeft(['exit'], { entry, t });
  await assert.rejects(weft.waitForLine(/never printed/, 30_000), /exited \(code 3/);
  assert.equal((await weft.exited).code, 3);
  assert.equal(await weft.stop(), 3);
});

test('stop escalates to SIGKILL when the process ignores the signal', async (t) => {
  const entry = await fake(t);
  const weft = startWeft(['stubborn'], { entry, t });
  await weft.waitForLine(/listening/);
  assert.equal(await weft.stop('SIGTERM', 300), null);
  assert.equal(weft.exit?.signal, 'SIGKILL');
});

test('feeds stdin when asked', async (t) => {
  const entry = await fake(t);
  const weft = startWeft(['stdin'], { entry, t, stdin: 'apiVersion: v1\n' });
  await weft.waitForLine(/^stdin: apiVersion: v1$/);
  await weft.kill();
  assert.equal(weft.exit?.signal, 'SIGKILL');
});
