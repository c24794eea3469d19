import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assembleJoinToken, JOIN_TOKEN_MAX_LENGTH, joinTokenSigningInput, readJoinToken, type JoinTokenPayload } from './join-token.js';

const PAYLOAD: JoinTokenPayload = { id: '0123456789abcdef', ns: 'default', svc: 'reviews', exp: 1_900_000_000, ca: `sha256:${'0f'.repeat(32)}` };
const MAC = Buffer.alloc(32, 7);

const encode = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url');
const tokenOf = (json: unknown, mac = MAC.toString('base64url')): string => `weft1.${encode(json)}.${mac}`;

const refused = (token: string, reason: RegExp): void => {
  const r = readJoinToken(token);
  assert.equal(r.ok, false, `${token.slice(0, 80)} should be refused`);
  if (!r.ok) assert.match(r.reason, reason);
};

test('a token made from its parts reads back: payload, signing input, MAC', () => {
  const input = joinTokenSigningInput(PAYLOAD);
  assert.equal(input, `weft1.${encode(PAYLOAD)}`);
  const token = assembleJoinToken(input, MAC);
  const r = readJoinToken(`${token}\n`);
  assert.ok(r.ok);
  assert.deepEqual(r.token.payload, PAYLOAD);
  assert.equal(r.token.signingInput, input);
  assert.ok(r.token.mac.equals(MAC));
  const once = readJoinToken(assembleJoinToken(joinTokenSigningInput({ ...PAYLOAD, once: true }), MAC));
  assert.ok(once.ok && once.token.payload.once === true);
});

test('the signing input has a fixed key order, whatever order the payload was built in', () => {
  const shuffled = { ca: PAYLOAD.ca, exp: PAYLOAD.exp, svc: PAYLOAD.svc, ns: PAYLOAD.ns, id: PAYLOAD.id };
  assert.equal(joinTokenSigningInput(shuffled), joinTokenSigningInput(PAYLOAD));
  assert.throws(() => joinTokenSigningInput({ ...PAYLOAD, svc: 'Bad Name' }));
});

test('only the shape is checked: wrong prefix, parts, encodings, payloads and lengths are refused', () => {
  refused('', /empty/);
  refused('weft2.' + tokenOf(PAYLOAD).slice(6), /has the form weft1/);
  refused(`weft1.${encode(PAYLOAD)}`, /has the form/);
  refused(`${tokenOf(PAYLOAD)}.extra`, /has the form/);
  refused(`weft1.${encode(PAYLOAD)}.not+base64`, /base64url/);
  refused(tokenOf(PAYLOAD, MAC.subarray(0, 31).toString('base64url')), /32 bytes/);
  refused(tokenOf(PAYLOAD, `${MAC.toString('base64url')}==`), /base64url/);
  refused(`weft1.${Buffer.from('{oops').toString('base64url')}.${MAC.toString('base64url')}`, /not JSON/);
  refused(tokenOf([PAYLOAD]), /not valid/);
  refused(tokenOf({ ...PAYLOAD, extra: 1 }), /not valid/);
  refused(tokenOf({ ...PAYLOAD, id: 'ABC' }), /id:/);
  refused(tokenOf({ ...PAYLOAD, ns: 'Default' }), /ns:/);
  refused(tokenOf({ ...PAYLOAD, svc: '' }), /svc:/);
  refused(tokenOf({ ...PAYLOAD, exp: 1.5 }), /exp:/);
  refused(tokenOf({ ...PAYLOAD, exp: '1900000000' }), /exp:/);
  refused(tokenOf({ ...PAYLOAD, ca: 'sha1:abc' }), /ca:/);
  refused(tokenOf({ ...PAYLOAD, once: false }), /once:/);
  const { svc: _svc, ...noService } = PAYLOAD;
  refused(tokenOf(noService), /svc:/);
  refused(`${tokenOf(PAYLOAD)}${'A'.repeat(JOIN_TOKEN_MAX_LENGTH)}`, /longer than/);
});

test('reasons never echo the token', () => {
  const secret = tokenOf({ ...PAYLOAD, svc: 'UPPER' });
  const r = readJoinToken(secret);
  assert.ok(!r.ok && !r.reason.includes(secret.split('.')[2] ?? '?'));
});
