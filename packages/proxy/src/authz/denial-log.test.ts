import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { DENIAL_LOG_INTERVAL_MS, DenialLog } from './denial-log.js';
import type { AuthzDecision } from './evaluator.js';

interface Line {
  level: number;
  msg: string;
  policy?: string;
  denied?: number;
  caller?: string;
}

/** A real pino logger writing JSON lines into an array (synchronously). */
const capture = (level: string): { lines: Line[]; logger: pino.Logger } => {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { lines, logger: pino({ level }, sink) };
};
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

const DENY: AuthzDecision = { allowed: false, basis: 'deny-policy', policy: 'shop/no-admin', rule: 0, reason: 'denied by AuthorizationPolicy shop/no-admin rules[0] (action DENY)' };
const DEFAULT: AuthzDecision = { allowed: false, basis: 'mesh-default', reason: 'denied by the mesh default DENY (no ALLOW policy applies to the Service)' };
const INFO = 30;
const DEBUG = 20;

test('info: the first denial per reason at once, then at most one line per interval with the count', async () => {
  const { lines, logger } = capture('info');
  let now = 0;
  const log = new DenialLog(logger, () => now);
  log.record(DENY, undefined, 'GET', '/admin');
  for (let i = 0; i < 99; i++) log.record(DENY, undefined, 'GET', '/admin');
  log.record(DEFAULT, undefined, 'GET', '/');
  await flush();
  assert.deepEqual(lines.map((l) => [l.level, l.policy]), [[INFO, 'shop/no-admin'], [INFO, undefined]], 'one line per reason, not per request');
  assert.equal(lines[0]?.caller, 'unauthenticated');
  now = DENIAL_LOG_INTERVAL_MS - 1;
  log.record(DENY, undefined, 'GET', '/admin');
  await flush();
  assert.equal(lines.length, 2, 'nothing more within the interval');
  now = DENIAL_LOG_INTERVAL_MS;
  log.record(DENY, undefined, 'GET', '/admin');
  await flush();
  assert.equal(lines.length, 3);
  assert.equal(lines[2]?.denied, 101, 'the line counts every denial since the last one');
  assert.match(lines[2]?.msg ?? '', /^101 requests denied in the last 60s: denied by AuthorizationPolicy shop\/no-admin/);
});

test('debug: every denial', async () => {
  const { lines, logger } = capture('debug');
  const log = new DenialLog(logger, () => 0);
  for (let i = 0; i < 3; i++) log.record(DENY, { principal: 'spiffe://td/ns/a/sa/b', namespace: 'a', serviceAccount: 'b' }, 'GET', '/admin');
  await flush();
  assert.equal(lines.filter((l) => l.level === DEBUG).length, 3);
  assert.equal(lines.filter((l) => l.level === INFO).length, 1);
  assert.equal(lines[0]?.caller, 'spiffe://td/ns/a/sa/b');
});
