#!/usr/bin/env node
// Runs the test suite with node:test through tsx.
//
//   node scripts/test.mjs                 unit (packages/*/src) and integration (packages/*/test) tests
//   node scripts/test.mjs --unit          unit tests only
//   node scripts/test.mjs proxy retry     only files whose path contains "proxy" or "retry"
//
// Node 20's `--test` does not expand globs, so this script finds the files itself and
// passes them explicitly. The human-readable `spec` report goes to stdout; a TAP report is
// written to a temporary file alongside it, and its closing summary (`# pass N`,
// `# fail N`, ...) is printed at the end, because those are the lines CI and people grep
// for and the spec reporter does not print them in that form.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const argv = process.argv.slice(2);
const unitOnly = argv.includes('--unit');
const unknownFlags = argv.filter((a) => a.startsWith('-') && a !== '--unit');
if (unknownFlags.length > 0) {
  console.error(`test.mjs: unknown option(s) ${unknownFlags.join(' ')} (known: --unit, then path filters)`);
  process.exit(2);
}
const filters = argv.filter((a) => !a.startsWith('-'));

/** Every `*.test.ts` below `dir`, skipping dependency and build output folders. */
function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found = [];
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) found.push(...findTests(p));
    else if (e.isFile() && e.name.endsWith('.test.ts')) found.push(p);
  }
  return found;
}

const packagesDir = join(root, 'packages');
const packages = readdirSync(packagesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => join(packagesDir, e.name));

const all = packages.flatMap((pkg) => [...findTests(join(pkg, 'src')), ...(unitOnly ? [] : findTests(join(pkg, 'test')))]);
// Filters match the repo-relative path with forward slashes, the same on every OS.
const rel = (f) => relative(root, f).split(sep).join('/');
const files = all.filter((f) => filters.length === 0 || filters.some((s) => rel(f).includes(s))).sort();

if (files.length === 0) {
  const what = unitOnly ? 'unit test files' : 'test files';
  console.error(`test.mjs: no ${what} found${filters.length ? ` matching ${filters.join(', ')}` : ''}; failing.`);
  process.exit(1);
}

console.log(`test.mjs: running ${files.length} test file(s)${unitOnly ? ' (unit only)' : ''}`);

const tapDir = mkdtempSync(join(tmpdir(), 'weft-test-report-'));
const tapFile = join(tapDir, 'report.tap');

const child = spawn(
  process.execPath,
  [
    '--conditions=weft-source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files.map(rel),
  ],
  { cwd: root, stdio: 'inherit' },
);

// Ctrl-C reaches the child through the terminal's process group; a signal sent to this
// process alone (CI timeouts) is passed on so that no test process is left behind.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => child.kill(sig));
}

child.on('exit', (code, signal) => {
  const summary = readSummary();
  rmSync(tapDir, { recursive: true, force: true });
  if (summary.lines.length > 0) {
    console.log('');
    for (const line of summary.lines) console.log(line);
    if (summary.pass !== undefined && summary.fail !== undefined) {
      console.log(`tests: ${summary.pass} passed, ${summary.fail} failed`);
    }
  }
  if (signal) {
    console.error(`test.mjs: test runner ended by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});

/** The closing `# name N` lines of the TAP report (empty if the runner died before them). */
function readSummary() {
  let text = '';
  try {
    text = readFileSync(tapFile, 'utf8');
  } catch {
    return { lines: [] };
  }
  const lines = text
    .split('\n')
    .filter((l) => /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) \S+$/.test(l));
  const count = (name) => {
    const l = lines.find((x) => x.startsWith(`# ${name} `));
    return l === undefined ? undefined : Number(l.split(' ')[2]);
  };
  return { lines, pass: count('pass'), fail: count('fail') };
}
