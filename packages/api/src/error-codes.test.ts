import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from './error-codes.js';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The documented codes with the status and flag their section states. */
const documented = (): Map<string, { status: number; flag: string }> => {
  const out = new Map<string, { status: number; flag: string }>();
  const sections = doc.split(/^### /m).slice(1);
  for (const s of sections) {
    const code = s.slice(0, s.indexOf('\n')).trim();
    const m = /Status (\d+)[^,]*, flag `([^`]+)`/.exec(s);
    assert.ok(m, `docs/errors.md: section ${code} must state "Status N, flag \`F\`"`);
    out.set(code, { status: Number(m[1]), flag: m[2] ?? '' });
  }
  return out;
};

test('every error code is documented in docs/errors.md with its status and flag', () => {
  const docs = documented();
  for (const [code, def] of Object.entries(ERROR_CODES)) {
    const d = docs.get(code);
    assert.ok(d, `${code} is missing from docs/errors.md`);
    assert.equal(d.status, def.status, `${code}: status in docs`);
    assert.equal(d.flag, def.flag, `${code}: flag in docs`);
  }
});

test('docs/errors.md documents no code that does not exist', () => {
  for (const code of documented().keys()) assert.ok(code in ERROR_CODES, `docs/errors.md documents unknown ${code}`);
});

test('codes follow WEFT_ERR_<AREA>_<WHAT>', () => {
  for (const code of Object.keys(ERROR_CODES)) assert.match(code, /^WEFT_ERR_[A-Z]+_[A-Z_]+$/);
});
