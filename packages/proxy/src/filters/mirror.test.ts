import assert from 'node:assert/strict';
import { afterEach, mock, test } from 'node:test';
import type { Backend } from '../routing/backend.js';
import { RoundRobinBalancer } from '../balancing/round-robin.js';
import { Destination } from '../destination/destination.js';
import { staticDestinationEnv } from '../destination/static-env.js';
import { compileMirror, MIRROR_BODY_LIMIT, MIRROR_TIMEOUT_MS, MirrorBody, mirrorCounts, MIRRORS_IN_FLIGHT_LIMIT, startMirrors, type MirrorSlot } from './mirror.js';

const backend: Backend = {
  name: 'shadow.default',
  service: 'shadow.default',
  destination: new Destination('shadow.default', undefined, staticDestinationEnv),
  balancer: new RoundRobinBalancer([], { random: Math.random }),
  hashKey: undefined,
};

afterEach(() => mock.timers.reset());

test('a mirror copies its share of requests', () => {
  const all = compileMirror({ service: 's' }, backend);
  const none = compileMirror({ service: 's', fraction: { numerator: 0, denominator: 100 } }, backend);
  const tenth = compileMirror({ service: 's', fraction: { numerator: 1, denominator: 10 } }, backend);
  let n = 0;
  const runs = 20_000;
  for (let i = 0; i < runs; i++) {
    assert.ok(all.sample());
    assert.ok(!none.sample());
    if (tenth.sample()) n++;
  }
  // Binomial(20000, 0.1): 5 standard deviations are about 212 requests.
  assert.ok(Math.abs(n - 2000) < 212, `${n} of ${runs} sampled`);
});

test('mirrors beyond the in-flight limit are dropped and counted; released slots make room', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const policy = compileMirror({ service: 's' }, backend);
  const before = { ...mirrorCounts };
  const held: MirrorSlot[] = [];
  for (let i = 0; i < MIRRORS_IN_FLIGHT_LIMIT + 5; i++) held.push(...(startMirrors([policy]) ?? []));
  assert.equal(held.length, MIRRORS_IN_FLIGHT_LIMIT - before.inFlight);
  assert.equal(mirrorCounts.dropped_in_flight_limit - before.dropped_in_flight_limit, 5 + before.inFlight);
  assert.equal(startMirrors([policy]), undefined);
  held[0]?.release('completed');
  held[0]?.release('failed');
  assert.equal(mirrorCounts.completed - before.completed, 1);
  assert.equal(mirrorCounts.failed - before.failed, 0, 'a slot is released once');
  assert.equal(startMirrors([policy])?.length, 1);
  for (const s of held) s.release('completed');
  mock.timers.tick(MIRROR_TIMEOUT_MS);
  assert.equal(mirrorCounts.inFlight, before.inFlight);
});

test('a mirror that runs out of time is cancelled and counted', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const before = mirrorCounts.timed_out;
  const [slot] = startMirrors([compileMirror({ service: 's' }, backend)]) ?? [];
  assert.ok(slot);
  let cancelled = 0;
  slot.onTimeout(() => cancelled++);
  mock.timers.tick(MIRROR_TIMEOUT_MS - 1);
  assert.equal(cancelled, 0);
  mock.timers.tick(1);
  assert.equal(cancelled, 1);
  assert.ok(slot.released);
  assert.equal(mirrorCounts.timed_out - before, 1);
});

test('the body copy: whole up to the limit, dropped past it', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const policy = compileMirror({ service: 's' }, backend);
  const sent: Buffer[] = [];
  const slots = startMirrors([policy, policy]) ?? [];
  const copy = new MirrorBody(slots, (b) => sent.push(b));
  const chunk = Buffer.alloc(MIRROR_BODY_LIMIT / 2, 1);
  copy.write(chunk);
  chunk.fill(2); // the owner reuses its buffer: the copy must not change
  copy.write(Buffer.alloc(MIRROR_BODY_LIMIT / 2, 3));
  copy.end();
  assert.equal(sent.length, 1, 'one copy for all the mirrors of the request');
  assert.equal(sent[0]?.length, MIRROR_BODY_LIMIT);
  assert.equal(sent[0]?.[0], 1);
  for (const s of slots) s.release('completed');

  const tooLarge = mirrorCounts.dropped_body_too_large;
  const big = startMirrors([policy, policy]) ?? [];
  const over = new MirrorBody(big, (b) => sent.push(b));
  over.write(Buffer.alloc(MIRROR_BODY_LIMIT + 1));
  over.end();
  assert.equal(sent.length, 1, 'nothing sent past the limit');
  assert.ok(big.every((s) => s.released));
  assert.equal(mirrorCounts.dropped_body_too_large - tooLarge, 2);
});

test('a body that ends after its mirrors timed out sends nothing', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  const slots = startMirrors([compileMirror({ service: 's' }, backend)]) ?? [];
  let sent = 0;
  const copy = new MirrorBody(slots, () => sent++);
  copy.write(Buffer.from('x'));
  mock.timers.tick(MIRROR_TIMEOUT_MS);
  copy.end();
  assert.equal(sent, 0);
});
