import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProxySnapshotSchema } from '@weft/api';
import { z } from 'zod';
import { WeftError } from './weft-error.js';
import {
  ConfigValidationError,
  formatFieldPath,
  parseDocument,
  parseDocuments,
  readDocumentFile,
  readDocumentsFile,
} from './yaml-validate.js';

const Item = z.strictObject({ name: z.string(), port: z.number().int().max(65535) });

/** Runs `fn`, asserts it throws a ConfigValidationError, and returns it. */
const invalid = (fn: () => unknown): ConfigValidationError => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigValidationError, `expected ConfigValidationError, got ${String(err)}`);
    assert.ok(err instanceof WeftError);
    assert.equal(err.code, 'WEFT_ERR_CONFIG_INVALID');
    return err;
  }
  assert.fail('expected an error');
};

const SNAPSHOT = `apiVersion: weft.dev/v1alpha1
kind: ProxySnapshot
routesVersion: r1
endpointsVersion: e1
services:
  - name: reviews
endpoints:
  reviews.default:
    - address: 127.0.0.1
      port: 9001
    - address: 127.0.0.2
      port: 70000
`;

test('formatFieldPath uses dots for identifiers and brackets otherwise', () => {
  assert.equal(formatFieldPath(['endpoints', 'reviews.default', 0, 'port']), 'endpoints["reviews.default"][0].port');
  assert.equal(formatFieldPath([0, 'a']), '[0].a');
  assert.equal(formatFieldPath([]), '');
});

test('a valid multi-document stream yields every document, skipping empty ones', () => {
  const docs = parseDocuments(Item, '---\nname: a\nport: 1\n---\nname: b\nport: 2\n---\n', 'items.yaml');
  assert.deepEqual(docs, [
    { name: 'a', port: 1 },
    { name: 'b', port: 2 },
  ]);
  assert.deepEqual(parseDocuments(Item, '', 'empty.yaml'), []);
});

test('JSON is accepted', () => {
  assert.deepEqual(parseDocument(Item, '{"name": "a", "port": 80}', 'item.json'), { name: 'a', port: 80 });
});

test('a schema failure names the file, line, column, field and rule', () => {
  const err = invalid(() => parseDocument(ProxySnapshotSchema, SNAPSHOT, 'snapshot.yaml'));
  assert.equal(err.message, 'snapshot.yaml:12:13: endpoints["reviews.default"][1].port: Too big: expected number to be <=65535');
  assert.deepEqual(err.context, {
    file: 'snapshot.yaml',
    line: 12,
    column: 13,
    field: 'endpoints["reviews.default"][1].port',
    issues: 1,
  });
  assert.deepEqual(err.issues[0]?.path, ['endpoints', 'reviews.default', 1, 'port']);
});

test('every issue is listed, one per line, in source order', () => {
  const text = 'apiVersion: weft.dev/v1alpha1\nkind: ProxySnapshot\nroutesVersion: ""\nendpoints:\n  a.b:\n    - address: nope\n      port: 0\n';
  const err = invalid(() => parseDocument(ProxySnapshotSchema, text, 's.yaml'));
  assert.deepEqual(err.message.split('\n'), [
    // A missing key falls back to its nearest existing parent: the document's root map.
    's.yaml:1:1: endpointsVersion: Invalid input: expected string, received undefined',
    's.yaml:3:16: routesVersion: Too small: expected string to have >=1 characters',
    's.yaml:6:16: endpoints["a.b"][0].address: Invalid input: Invalid IPv4 address, or Invalid IPv6 address',
    's.yaml:7:13: endpoints["a.b"][0].port: Too small: expected number to be >=1',
  ]);
});

test('unknown keys are named, each at the line of the key', () => {
  const text = 'name: a\nport: 1\nprot: 2\nextra: {x: 1}\n';
  const err = invalid(() => parseDocument(Item, text, 'i.yaml'));
  assert.deepEqual(err.message.split('\n'), ['i.yaml:3:1: prot: Unrecognized key: "prot"', 'i.yaml:4:1: extra: Unrecognized key: "extra"']);
});

test('nested unknown keys and discriminated unions point into the structure', () => {
  const text = [
    'apiVersion: weft.dev/v1alpha1',
    'kind: ProxySnapshot',
    'routesVersion: r',
    'endpointsVersion: e',
    'transport:',
    '  tls:',
    '    mode: mtls',
    'limits:',
    '  idleTimeoutMs: 1000',
    '  idleTimeout: 5',
  ].join('\n');
  const err = invalid(() => parseDocument(ProxySnapshotSchema, text, 's.yaml'));
  assert.deepEqual(err.message.split('\n'), [
    "s.yaml:7:11: transport.tls.mode: Invalid discriminator value. Expected 'disabled' | 'static' | 'workload'",
    's.yaml:10:3: limits.idleTimeout: Unrecognized key: "idleTimeout"',
  ]);
});

test('issues across documents all carry their own lines', () => {
  const err = invalid(() => parseDocuments(Item, 'name: a\nport: 1\n---\nname: b\nport: x\n---\nname: 3\nport: 1\n', 'm.yaml'));
  assert.deepEqual(err.message.split('\n'), [
    'm.yaml:5:7: port: Invalid input: expected number, received string',
    'm.yaml:7:7: name: Invalid input: expected string, received number',
  ]);
});

test('a document of the wrong shape is reported at its root', () => {
  const err = invalid(() => parseDocument(Item, '- 1\n- 2\n', 'l.yaml'));
  assert.equal(err.message, 'l.yaml:1:1: Invalid input: expected object, received array');
});

test('aliases are followed into the node they name', () => {
  const Loose = z.object({ servers: z.array(Item) });
  const text = 'base: &b\n  name: a\n  port: 99999\nservers:\n  - *b\n';
  const err = invalid(() => parseDocument(Loose, text, 'a.yaml'));
  // The path goes through the alias (line 5) into the anchored map (line 3).
  assert.equal(err.message, 'a.yaml:3:9: servers[0].port: Too big: expected number to be <=65535');
});

test('anchors do not cross documents', () => {
  const err = invalid(() => parseDocuments(z.object({}), 'x: &p 1\n---\ny: *p\n', 'a.yaml'));
  assert.match(err.message, /^a\.yaml:3:1: Unresolved alias/);
});

test('YAML syntax errors are located and all listed', () => {
  const err = invalid(() => parseDocuments(Item, 'name: a\nport: [1, 2\n---\nname: b\nname: c\n', 'bad.yaml'));
  const lines = err.message.split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', /^bad\.yaml:3:1: .*end with a \]/);
  assert.match(lines[1] ?? '', /^bad\.yaml:5:1: Map keys must be unique/);
  assert.equal(err.context['field'], '');
});

test('parseDocument wants exactly one document', () => {
  assert.match(invalid(() => parseDocument(Item, '', 'e.yaml')).message, /^e\.yaml:1:1: expected one document, found none$/);
  assert.match(
    invalid(() => parseDocument(Item, 'name: a\nport: 1\n---\nname: b\nport: 2\n', 'two.yaml')).message,
    /^two\.yaml:3:1: expected one document, found 2$/,
  );
});

test('a long list of issues is capped', () => {
  const text = Array.from({ length: 60 }, (_, i) => `k${i}: 1`).join('\n');
  const err = invalid(() => parseDocument(z.strictObject({}), text, 'many.yaml'));
  const lines = err.message.split('\n');
  assert.equal(lines.length, 51);
  assert.equal(lines[50], '... and 10 more');
  assert.equal(err.issues.length, 60);
});

test('files are read and validated; unreadable files are WEFT_ERR_CONFIG_READ', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-yaml-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'items.yaml');
  await writeFile(file, 'name: a\nport: 1\n---\nname: b\nport: 2\n');
  assert.equal((await readDocumentsFile(Item, file)).length, 2);
  await writeFile(file, 'name: a\nport: 1e6\n');
  await assert.rejects(readDocumentFile(Item, file), (err: unknown) => {
    assert.ok(err instanceof ConfigValidationError);
    assert.equal(err.message, `${file}:2:7: port: Too big: expected number to be <=65535`);
    return true;
  });
  await assert.rejects(readDocumentsFile(Item, join(dir, 'missing.yaml')), (err: unknown) => {
    assert.ok(err instanceof WeftError);
    assert.equal(err.code, 'WEFT_ERR_CONFIG_READ');
    assert.match(err.message, /missing\.yaml: cannot read: ENOENT/);
    return true;
  });
});
