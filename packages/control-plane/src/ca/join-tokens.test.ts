import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { JOIN_TOKEN_PREFIX, readJoinToken } from '@weft/api';
import { createTmpDir, type TmpDir } from '@weft/testing';
import { silentLogger } from '../../test/fixtures/store-helpers.js';
import { FileStore, MemoryStore, type Store } from '../store/index.js';
import { JOIN_TOKEN_STORE_KIND, JoinTokens, loadOrCreateTokenSecret } from './index.js';

const HOUR = 3600_000;
const CA = { pinnedCaHash: `sha256:${'ab'.repeat(32)}` };
const REVIEWS = { service: 'reviews', namespace: 'default' };

const fakeClock = (): { now: () => Date; advance: (ms: number) => void } => {
  let t = Date.UTC(2030, 0, 1, 12);
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
};

const rejectsWith = (code: string, message?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof Error && 'code' in err, String(err));
  assert.equal(err.code, code, err.message);
  if (message !== undefined) assert.match(err.message, message);
  assert.ok(!/weft1\.[A-Za-z0-9_-]{20,}/.test(err.message), 'an error never echoes the token');
  return true;
};

/** Swaps one payload field and re-encodes the token, keeping the old signature. */
const withPayload = (token: string, change: Record<string, unknown>): string => {
  const [prefix, payload, mac] = token.split('.');
  const json = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as Record<string, unknown>;
  return `${prefix}.${Buffer.from(JSON.stringify({ ...json, ...change })).toString('base64url')}.${mac}`;
};

interface Backend {
  readonly name: string;
  open(dir: TmpDir): Promise<Store>;
}

const BACKENDS: readonly Backend[] = [
  { name: 'MemoryStore', open: async () => new MemoryStore({ logger: silentLogger }) },
  { name: 'FileStore', open: (dir) => FileStore.open({ dir: dir.join('store'), logger: silentLogger }) },
];

for (const backend of BACKENDS) {
  describe(`JoinTokens on the ${backend.name}`, () => {
    const setup = async (t: { after: (fn: () => Promise<void>) => void }): Promise<{ tokens: JoinTokens; store: Store; clock: ReturnType<typeof fakeClock>; dir: TmpDir }> => {
      const dir = await createTmpDir({ prefix: 'tokens', t });
      const store = await backend.open(dir);
      t.after(() => store.close());
      const clock = fakeClock();
      const tokens = await JoinTokens.open({ dataDir: dir.path, store, ca: CA, clock: clock.now });
      return { tokens, store, clock, dir };
    };

    test('create: a weft1 token for one service, its record stored without the token', async (t) => {
      const { tokens, store, clock } = await setup(t);
      const created = await tokens.create({ service: 'reviews', ttlMs: HOUR });
      assert.match(created.token, /^weft1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
      assert.match(created.id, /^[0-9a-f]{16}$/);
      assert.equal(created.expiresAt.getTime(), clock.now().getTime() + HOUR);
      const parsed = readJoinToken(created.token);
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.token.payload, { id: created.id, ns: 'default', svc: 'reviews', exp: (clock.now().getTime() + HOUR) / 1000, ca: CA.pinnedCaHash });
      const stored = await store.list({ kind: JOIN_TOKEN_STORE_KIND });
      assert.equal(stored.items.length, 1);
      const text = JSON.stringify(stored.items[0]?.value);
      assert.ok(!text.includes(created.token.split('.')[2] ?? '?'), 'the signature is not stored');
      assert.ok(!text.includes(created.token), 'the token is not stored');
      const [listed] = await tokens.list();
      assert.deepEqual(listed, {
        id: created.id,
        service: 'reviews',
        namespace: 'default',
        createdAt: clock.now().toISOString(),
        expiresAt: created.expiresAt.toISOString(),
        singleUse: false,
        revoked: false,
        used: false,
        state: 'active',
      });
      assert.ok(!JSON.stringify(await tokens.list()).includes(JOIN_TOKEN_PREFIX + '.'), 'list never returns a token');
    });

    test('a reusable token admits its service again and again until it expires', async (t) => {
      const { tokens, clock } = await setup(t);
      const { token, id } = await tokens.create({ service: 'reviews', ttlMs: HOUR });
      for (let i = 0; i < 3; i++) assert.equal((await tokens.redeem(token, REVIEWS)).id, id);
      assert.equal((await tokens.get(id)).used, false);
      clock.advance(HOUR - 1000);
      await tokens.verify(token, REVIEWS);
      clock.advance(1000);
      await assert.rejects(tokens.verify(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_EXPIRED', /expired at/));
      assert.equal((await tokens.get(id)).state, 'expired');
    });

    test('a single-use token admits one join; the next is refused', async (t) => {
      const { tokens } = await setup(t);
      const { token, id } = await tokens.create({ service: 'reviews', ttlMs: HOUR, singleUse: true });
      const parsed = readJoinToken(token);
      assert.ok(parsed.ok && parsed.token.payload.once === true);
      await tokens.verify(token, REVIEWS);
      await tokens.verify(token, REVIEWS);
      const first = await tokens.redeem(token, REVIEWS);
      assert.equal(first.used, true);
      assert.equal(first.state, 'used');
      await assert.rejects(tokens.redeem(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_USED'));
      await assert.rejects(tokens.verify(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_USED'));
      await assert.rejects(tokens.consume(id), rejectsWith('WEFT_ERR_TOKEN_USED'));
    });

    test('of joins racing with one single-use token exactly one passes', async (t) => {
      const { tokens } = await setup(t);
      const { token } = await tokens.create({ service: 'reviews', ttlMs: HOUR, singleUse: true });
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => tokens.redeem(token, REVIEWS)));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') rejectsWith('WEFT_ERR_TOKEN_USED')(r.reason);
    });

    test('revoked tokens admit nobody; revoking twice is fine; unknown ids are not found', async (t) => {
      const { tokens, store } = await setup(t);
      const { token, id } = await tokens.create({ service: 'reviews', ttlMs: HOUR });
      const keep = await tokens.create({ service: 'reviews', ttlMs: HOUR });
      const revoked = await tokens.revoke(id);
      assert.equal(revoked.state, 'revoked');
      assert.equal((await tokens.revoke(id)).revokedAt, revoked.revokedAt);
      await assert.rejects(tokens.verify(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_REVOKED'));
      await assert.rejects(tokens.consume(id), rejectsWith('WEFT_ERR_TOKEN_REVOKED'));
      await tokens.verify(keep.token, REVIEWS);
      for (const unknown of ['0123456789abcdef', 'nope', '', '../../etc']) await assert.rejects(tokens.revoke(unknown), rejectsWith('WEFT_ERR_TOKEN_NOT_FOUND'));
      assert.equal((await store.list({ kind: JOIN_TOKEN_STORE_KIND })).items.length, 2);
    });

    test('a single-use token revoked between verify and consume is refused', async (t) => {
      const { tokens } = await setup(t);
      const { token, id } = await tokens.create({ service: 'reviews', ttlMs: HOUR, singleUse: true });
      await tokens.verify(token, REVIEWS);
      await tokens.revoke(id);
      await assert.rejects(tokens.consume(id), rejectsWith('WEFT_ERR_TOKEN_REVOKED'));
    });

    test('scope: a token for another service or namespace is refused with 403', async (t) => {
      const { tokens } = await setup(t);
      const { token } = await tokens.create({ service: 'reviews', namespace: 'shop', ttlMs: HOUR });
      await tokens.verify(token, { service: 'reviews', namespace: 'shop' });
      for (const claim of [
        { service: 'ratings', namespace: 'shop' },
        { service: 'reviews', namespace: 'default' },
      ]) {
        await assert.rejects(tokens.verify(token, claim), (err: Error & { code?: string; status?: number }) => {
          rejectsWith('WEFT_ERR_TOKEN_SCOPE', /admits service reviews in namespace shop/)(err);
          assert.equal(err.status, 403);
          return true;
        });
      }
    });

    test('malformed, tampered or foreign tokens are invalid (401)', async (t) => {
      const { tokens, dir, store } = await setup(t);
      const { token } = await tokens.create({ service: 'reviews', ttlMs: HOUR });
      const [prefix, payload, mac] = token.split('.');
      const flipped = Buffer.from(mac ?? '', 'base64url');
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      const bad = [
        '',
        'garbage',
        `weft2.${payload}.${mac}`,
        `${prefix}.${payload}`,
        `${prefix}.${payload}.${mac}.x`,
        `${prefix}.${payload}.${flipped.toString('base64url')}`,
        `${prefix}.${payload}.${(mac ?? '').slice(0, 40)}`,
        withPayload(token, { svc: 'admin' }),
        withPayload(token, { exp: 4102444800 }),
        withPayload(token, { once: true }),
        `${prefix}.${Buffer.from('not json').toString('base64url')}.${mac}`,
        `${token}${'A'.repeat(2000)}`,
      ];
      for (const b of bad) {
        await assert.rejects(tokens.verify(b, REVIEWS), (err: Error & { code?: string; status?: number }) => {
          rejectsWith('WEFT_ERR_TOKEN_INVALID')(err);
          assert.equal(err.status, 401);
          return true;
        }, b.slice(0, 60));
      }
      // Signed with another control plane's secret.
      const other = new JoinTokens({ store, secret: randomBytes(32), ca: CA });
      const foreign = await other.create({ service: 'reviews', ttlMs: HOUR });
      await assert.rejects(tokens.verify(foreign.token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_INVALID', /signature does not match/));
      // A valid signature, but this control plane's store has no record (it was reset).
      const reset = new JoinTokens({ store: new MemoryStore({ logger: silentLogger }), secret: await loadOrCreateTokenSecret(dir.path), ca: CA });
      await assert.rejects(reset.verify(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_INVALID', /not known to this control plane/));
    });

    test('bad requests: names, lifetimes', async (t) => {
      const { tokens } = await setup(t);
      for (const req of [
        { service: 'Reviews', ttlMs: HOUR },
        { service: 'reviews', namespace: 'a/b', ttlMs: HOUR },
        { service: '', ttlMs: HOUR },
        { service: 'reviews', ttlMs: 59_000 },
        { service: 'reviews', ttlMs: 2161 * HOUR },
        { service: 'reviews', ttlMs: 1.5 * HOUR + 0.5 },
      ]) {
        await assert.rejects(tokens.create(req), rejectsWith('WEFT_ERR_CONFIG_INVALID'), JSON.stringify(req));
      }
      assert.deepEqual(await tokens.list(), []);
    });

    test('list shows every state; pruning deletes records long expired', async (t) => {
      const { tokens, clock } = await setup(t);
      const short = await tokens.create({ service: 'a', ttlMs: 60_000 });
      clock.advance(1000);
      const once = await tokens.create({ service: 'b', ttlMs: HOUR, singleUse: true });
      clock.advance(1000);
      const revoked = await tokens.create({ service: 'c', ttlMs: HOUR });
      clock.advance(1000);
      const active = await tokens.create({ service: 'd', ttlMs: 48 * HOUR });
      await tokens.redeem(once.token, { service: 'b', namespace: 'default' });
      await tokens.revoke(revoked.id);
      clock.advance(2 * 60_000);
      assert.deepEqual(
        (await tokens.list()).map((i) => [i.id, i.state]),
        [
          [short.id, 'expired'],
          [once.id, 'used'],
          [revoked.id, 'revoked'],
          [active.id, 'active'],
        ],
      );
      assert.equal(await tokens.pruneExpired(HOUR), 0);
      clock.advance(2 * HOUR);
      assert.equal(await tokens.pruneExpired(HOUR), 3);
      assert.deepEqual(
        (await tokens.list()).map((i) => i.id),
        [active.id],
      );
    });
  });
}

describe('join tokens across restarts', () => {
  test('the secret lives in <dataDir>/ca/token-secret (0600): tokens survive a restart of a file store', async (t) => {
    const dir = await createTmpDir({ prefix: 'tokens', t });
    let store = await FileStore.open({ dir: dir.join('store'), logger: silentLogger });
    const first = await JoinTokens.open({ dataDir: dir.path, store, ca: CA });
    const { token, id } = await first.create({ service: 'reviews', ttlMs: HOUR, singleUse: true });
    await store.close();
    const file = dir.join('ca', 'token-secret');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(dir.join('ca'))).mode & 0o777, 0o700);
    assert.equal(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url').length, 32);

    store = await FileStore.open({ dir: dir.join('store'), logger: silentLogger });
    t.after(() => store.close());
    const second = await JoinTokens.open({ dataDir: dir.path, store, ca: CA });
    assert.equal((await second.redeem(token, REVIEWS)).id, id);
    await assert.rejects(second.redeem(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_USED'));
  });

  test('a replaced secret invalidates every token; a damaged one is refused', async (t) => {
    const dir = await createTmpDir({ prefix: 'tokens', t });
    const store = new MemoryStore({ logger: silentLogger });
    const tokens = await JoinTokens.open({ dataDir: dir.path, store, ca: CA });
    const { token } = await tokens.create({ service: 'reviews', ttlMs: HOUR });
    await writeFile(dir.join('ca', 'token-secret'), `${randomBytes(32).toString('base64url')}\n`);
    const after = await JoinTokens.open({ dataDir: dir.path, store, ca: CA });
    await assert.rejects(after.verify(token, REVIEWS), rejectsWith('WEFT_ERR_TOKEN_INVALID'));
    await writeFile(dir.join('ca', 'token-secret'), 'short\n');
    await assert.rejects(JoinTokens.open({ dataDir: dir.path, store, ca: CA }), rejectsWith('WEFT_ERR_CA_FILES_INVALID', /token-secret/));
  });

  test('processes starting at once agree on one secret', async (t) => {
    const dir = await createTmpDir({ prefix: 'tokens', t });
    const secrets = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateTokenSecret(dir.path)));
    assert.equal(new Set(secrets.map((s) => s.toString('hex'))).size, 1);
  });
});
