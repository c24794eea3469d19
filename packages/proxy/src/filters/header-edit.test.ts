import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http2';
import { test } from 'node:test';
import { compileHeaderEdit } from './header-edit.js';

const pairs = (raw: readonly string[]): string[] => {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) out.push(`${raw[i]}: ${raw[i + 1]}`);
  return out.sort();
};

test('set, add and remove on HTTP/1.1 headers, names without case', () => {
  const edit = compileHeaderEdit([{ set: [{ name: 'X-Set', value: 'new' }], add: [{ name: 'x-add', value: 'b' }], remove: ['X-Gone'] }]);
  assert.ok(edit);
  const input = ['Host', 'h', 'x-set', 'old', 'X-SET', 'older', 'X-Add', 'a', 'x-gone', '1', 'x-keep', 'k'];
  const out = edit.raw(input);
  assert.deepEqual(pairs(out), ['Host: h', 'X-Set: new', 'x-add: a,b', 'x-keep: k']);
  assert.equal(input.length, 12, 'the input list is not changed');
  assert.deepEqual(pairs(edit.raw(['a', '1'])), ['X-Set: new', 'a: 1', 'x-add: b'], 'add without an existing field sets it');
});

test('repeated fields are joined before an add', () => {
  const edit = compileHeaderEdit([{ add: [{ name: 'x-list', value: 'c' }] }]);
  assert.deepEqual(pairs(edit?.raw(['x-list', 'a', 'X-List', 'b']) ?? []), ['x-list: a,b,c']);
});

test('the same edit on HTTP/2 headers', () => {
  const edit = compileHeaderEdit([{ set: [{ name: 'X-Set', value: 'new' }], add: [{ name: 'x-add', value: 'b' }], remove: ['x-gone'] }]);
  const h: OutgoingHttpHeaders = { ':path': '/', 'x-set': 'old', 'x-add': ['a1', 'a2'], 'x-gone': '1' };
  edit?.object(h);
  assert.deepEqual(h, { ':path': '/', 'x-set': 'new', 'x-add': 'a1,a2,b' });
});

test('modifiers apply in order: the rule\'s, then the backend\'s', () => {
  const edit = compileHeaderEdit([{ set: [{ name: 'x-who', value: 'rule' }] }, { add: [{ name: 'x-who', value: 'backend' }] }]);
  assert.deepEqual(pairs(edit?.raw([]) ?? []), ['x-who: rule,backend']);
  const later = compileHeaderEdit([{ add: [{ name: 'x', value: '1' }] }, { remove: ['x'] }]);
  assert.deepEqual(later?.raw(['x', '0']), []);
});

test('modifiers that change nothing compile to no edit', () => {
  assert.equal(compileHeaderEdit([]), undefined);
  assert.equal(compileHeaderEdit([{}, { set: [] }]), undefined);
});
