import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { generateReferenceFiles } from './reference.js';
import { RESOURCE_KIND_LIST } from './registry.js';

const root = new URL('../../../../', import.meta.url);
const REGENERATE = 'run: node --conditions=weft-source --import tsx scripts/gen-reference.mjs';

test('the committed JSON Schemas and reference are what the schemas generate', () => {
  for (const file of generateReferenceFiles()) {
    let committed: string | undefined;
    try {
      committed = readFileSync(new URL(file.path, root), 'utf8');
    } catch {
      committed = undefined;
    }
    assert.ok(committed !== undefined, `${file.path} is missing; ${REGENERATE}`);
    assert.ok(committed === file.content, `${file.path} is stale; ${REGENERATE}`);
  }
});

test('schemas/ holds no schema for a kind that no longer exists', () => {
  const generated = new Set(generateReferenceFiles().map((f) => f.path));
  for (const name of readdirSync(new URL('schemas/', root))) {
    if (name.endsWith('.schema.json')) assert.ok(generated.has(`schemas/${name}`), `schemas/${name} is obsolete; ${REGENERATE}`);
  }
});

test('the reference has a section, a fields table and an example for every kind', () => {
  const doc = generateReferenceFiles().find((f) => f.path === 'docs/reference/resources.md')?.content ?? '';
  for (const k of RESOURCE_KIND_LIST) {
    const start = doc.indexOf(`\n## ${k.kind}\n`);
    assert.ok(start >= 0, `no section for ${k.kind}`);
    const section = doc.slice(start, doc.indexOf('\n## ', start + 1) >>> 0 || undefined);
    assert.match(section, /### Fields\n\n\| field \| type \| default \| description \|/, k.kind);
    assert.match(section, /### Example\n\n```yaml\n/, k.kind);
  }
});

test('JSON Schemas reject unknown fields and carry defaults and descriptions', () => {
  const files = generateReferenceFiles();
  const route = JSON.parse(files.find((f) => f.path === 'schemas/httproute.schema.json')?.content ?? '{}') as {
    additionalProperties?: boolean;
    properties: { spec: { properties: { rules: { default?: unknown; description?: string } } } };
  };
  assert.equal(route.additionalProperties, false);
  assert.deepEqual(route.properties.spec.properties.rules.default, [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }]);
  assert.match(route.properties.spec.properties.rules.description ?? '', /at most 16/);
});
