#!/usr/bin/env node
// Writes the files generated from the resource schemas in packages/api/src/resources:
//
//   schemas/<kind>.schema.json      JSON Schema per kind, for editors validating YAML
//   schemas/resources.schema.json   one schema for files that mix kinds
//   docs/reference/resources.md     the reference: one section per kind, fields and an example
//
// Run it after changing a schema, and commit the result (a unit test fails when they are stale):
//
//   node --conditions=weft-source --import tsx scripts/gen-reference.mjs [--check]
//
// With --check it writes nothing and exits 1 when a file differs from what it would write.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateReferenceFiles } from '../packages/api/src/resources/reference.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

const files = generateReferenceFiles();
const wanted = new Set(files.map((f) => f.path));
let stale = 0;

for (const f of files) {
  const target = join(root, f.path);
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current === f.content) continue;
  stale++;
  if (check) {
    console.error(`stale: ${f.path}`);
    continue;
  }
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, f.content);
  console.log(`wrote ${f.path}`);
}

// A schema whose kind no longer exists must not linger for editors to pick up.
for (const name of await readdir(join(root, 'schemas')).catch(() => [])) {
  const path = `schemas/${name}`;
  if (!name.endsWith('.schema.json') || wanted.has(path)) continue;
  stale++;
  if (check) console.error(`obsolete: ${path}`);
  else {
    await rm(join(root, path));
    console.log(`removed ${path}`);
  }
}

if (check && stale > 0) {
  console.error('run: node --conditions=weft-source --import tsx scripts/gen-reference.mjs');
  process.exit(1);
}
if (!check && stale === 0) console.log('reference and schemas are up to date');
