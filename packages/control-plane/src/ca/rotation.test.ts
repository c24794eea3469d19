import assert from 'node:assert/strict';
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createTmpDir, type TmpDir } from '@weft/testing';
import { makeCsr, verifyChain } from '../../test/fixtures/ca-fixtures.js';
import { CertificateAuthority, type RotationState } from './index.js';

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/default/sa/web`;
const HOUR = 3600_000;

const open = (dir: TmpDir): Promise<CertificateAuthority> => CertificateAuthority.open({ dataDir: dir.path, trustDomain: TD });

const codeOf = (code: string, message?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof Error && 'code' in err, String(err));
  assert.equal(err.code, code, err.message);
  if (message !== undefined) assert.match(err.message, message);
  return true;
};

const leafFrom = async (ca: CertificateAuthority, dir: TmpDir): Promise<string> => {
  const csr = await makeCsr(dir.path);
  return (await ca.issueWorkloadCertificate({ csrPem: csr.csrPem, spiffeId: WEB, lifetimeMs: HOUR })).chainPem;
};

const verifies = async (dir: TmpDir, roots: readonly string[], leaf: string): Promise<boolean> => (await verifyChain(dir.path, roots.join(''), leaf)).ok;

/** The phase, and per root (by hash) whether it signs. */
const summary = (s: RotationState): string => `${s.phase}: ${s.roots.map((r) => `${r.caHash.slice(7, 15)}${r.signing ? '*' : ''}${r.trusted ? '' : '(untrusted)'}`).join(' ')}`;

describe('root rotation (self-managed CA)', () => {
  test('introduce, activate, retire: what is trusted and what signs at each step', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    const ca = await open(dir);
    const [oldRoot = ''] = ca.trustBundle;
    const oldHash = ca.caHash;
    const fromOld = await leafFrom(ca, dir);
    assert.equal(ca.rotationState().phase, 'idle');

    const introduced = await ca.beginRotation();
    assert.equal(introduced.phase, 'introduced');
    assert.equal(ca.trustBundle.length, 2);
    assert.equal(ca.trustBundle[0], oldRoot, 'the old root stays first');
    const newRoot = ca.trustBundle[1] ?? '';
    const newHash = ca.caHashes[1] ?? '';
    assert.deepEqual(ca.caHashes, [oldHash, newHash]);
    assert.equal(ca.caHash, oldHash);
    assert.equal(ca.pinnedCaHash, newHash, 'new join tokens pin the incoming root');
    assert.deepEqual(
      introduced.roots.map((r) => [r.caHash, r.signing, r.trusted]),
      [
        [oldHash, true, true],
        [newHash, false, true],
      ],
    );
    const duringIntroduce = await leafFrom(ca, dir);
    assert.ok(await verifies(dir, [oldRoot], duringIntroduce), 'the old root still signs');
    assert.ok(!(await verifies(dir, [newRoot], duringIntroduce)));
    assert.equal(await readFile(dir.join('ca', 'ca.crt'), 'utf8'), oldRoot + newRoot);

    const activated = await ca.activateNext();
    assert.equal(activated.phase, 'activated');
    assert.deepEqual(ca.trustBundle, [oldRoot, newRoot], 'both stay trusted');
    assert.deepEqual(
      activated.roots.map((r) => [r.caHash, r.signing]),
      [
        [oldHash, false],
        [newHash, true],
      ],
    );
    const fromNew = await leafFrom(ca, dir);
    assert.ok(await verifies(dir, [newRoot], fromNew), 'the new root signs');
    assert.ok(await verifies(dir, ca.trustBundle, fromOld), 'certificates of the old root still verify with the bundle');
    assert.ok(await verifies(dir, ca.trustBundle, fromNew));

    const retired = await ca.retireOld();
    assert.equal(retired.phase, 'idle');
    assert.deepEqual(ca.trustBundle, [newRoot]);
    assert.equal(ca.caHash, newHash);
    assert.deepEqual(
      retired.roots.map((r) => [r.caHash, r.signing, r.trusted]),
      [[newHash, true, true]],
    );
    assert.ok(!(await verifies(dir, ca.trustBundle, fromOld)), 'the old root is no longer trusted');
    assert.ok(await verifies(dir, ca.trustBundle, fromNew));
    assert.equal(await readFile(dir.join('ca', 'ca.crt'), 'utf8'), newRoot);
    const archived = await readdir(dir.join('ca', 'archive'));
    assert.deepEqual(archived.sort(), [`root-${oldHash.slice(7, 23)}.crt`, `root-${oldHash.slice(7, 23)}.key`]);
    assert.equal((await stat(dir.join('ca', 'archive', `root-${oldHash.slice(7, 23)}.key`))).mode & 0o777, 0o600);
    assert.equal((await stat(dir.join('ca', 'archive'))).mode & 0o777, 0o700);
    assert.ok(!(await readdir(dir.join('ca'))).includes(`root-${oldHash.slice(7, 23)}.key`));
    const keys = (await readdir(dir.join('ca'))).filter((n) => n.endsWith('.key'));
    assert.equal(keys.length, 1);
    assert.equal((await stat(dir.join('ca', keys[0] ?? ''))).mode & 0o777, 0o600, 'the new root key is 0600');

    // A second rotation works the same way.
    await ca.beginRotation();
    await ca.activateNext();
    await ca.retireOld();
    assert.equal(ca.trustBundle.length, 1);
    assert.notEqual(ca.caHash, newHash);
  });

  test('each step is idempotent; out of order is refused and changes nothing', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    const ca = await open(dir);
    const state = (): string => summary(ca.rotationState());
    await assert.rejects(ca.activateNext(), codeOf('WEFT_ERR_CA_ROTATION_ORDER', /introduce one first/));
    await assert.rejects(ca.retireOld(), codeOf('WEFT_ERR_CA_ROTATION_ORDER', /no rotation in progress/));
    assert.equal(ca.rotationState().phase, 'idle');

    await ca.beginRotation();
    const introduced = state();
    await ca.beginRotation();
    assert.equal(state(), introduced, 'introducing twice makes no second root');
    await assert.rejects(ca.retireOld(), codeOf('WEFT_ERR_CA_ROTATION_ORDER', /activate it first/));
    assert.equal(state(), introduced);

    await ca.activateNext();
    const activated = state();
    await ca.activateNext();
    assert.equal(state(), activated);
    await assert.rejects(ca.beginRotation(), codeOf('WEFT_ERR_CA_ROTATION_ORDER', /retire the old root first/));
    assert.equal(state(), activated);

    await ca.retireOld();
    const retired = state();
    await ca.retireOld();
    assert.equal(state(), retired, 'retiring twice retires nothing more');
    await assert.rejects(ca.activateNext(), codeOf('WEFT_ERR_CA_ROTATION_ORDER'));
  });

  test('steps racing each other run one after another', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    const ca = await open(dir);
    const results = await Promise.allSettled([ca.beginRotation(), ca.beginRotation(), ca.activateNext(), ca.beginRotation()]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    assert.equal(ca.rotationState().phase, 'activated');
    assert.equal(ca.trustBundle.length, 2);
    const reopened = await open(dir);
    assert.equal(summary(reopened.rotationState()), summary(ca.rotationState()));
  });

  test('listeners hear of changes, not of repeats', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    const ca = await open(dir);
    let calls = 0;
    const stop = ca.onChange(() => calls++);
    await ca.beginRotation();
    await ca.beginRotation();
    assert.equal(calls, 1);
    await ca.activateNext();
    assert.equal(calls, 2);
    stop();
    await ca.retireOld();
    assert.equal(calls, 2);
  });

  test('a reopen after each phase comes back in that phase with the same roots', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    let ca = await open(dir);
    for (const step of ['introduce', 'activate', 'retire'] as const) {
      await ca.rotate(step);
      const before = summary(ca.rotationState());
      const bundle = ca.trustBundle;
      ca = await open(dir);
      assert.equal(summary(ca.rotationState()), before, `after ${step}`);
      assert.deepEqual(ca.trustBundle, bundle);
      // The reopened CA signs with the root the state says signs.
      const signingRoot = ca.trustBundle[ca.rotationState().roots.findIndex((r) => r.signing)] ?? '';
      assert.ok(await verifies(dir, [signingRoot], await leafFrom(ca, dir)), `after ${step}`);
    }
  });

  describe('crashes between the writes of a step', () => {
    test('introduce: new root files written, state not yet: reopens idle, the stray root archived', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-rot', t });
      const ca = await open(dir);
      const idleState = await readFile(dir.join('ca', 'state.json'), 'utf8');
      const before = summary(ca.rotationState());
      await ca.beginRotation();
      // Roll the state back to before the step, as if the process died before renaming it.
      await writeFile(dir.join('ca', 'state.json'), idleState);
      await writeFile(dir.join('ca', 'state.json.tmp'), '{"half": ');
      const reopened = await open(dir);
      assert.equal(summary(reopened.rotationState()), before);
      assert.equal(reopened.trustBundle.length, 1);
      assert.equal((await readdir(dir.join('ca'))).filter((n) => n.startsWith('root-')).length, 2, 'one root: its .crt and .key');
      assert.equal((await readdir(dir.join('ca', 'archive'))).length, 2, 'the stray root was archived, not deleted');
      assert.ok(!(await readdir(dir.join('ca'))).includes('state.json.tmp'), 'temporary files are removed');
      assert.equal((await readFile(dir.join('ca', 'ca.crt'), 'utf8')).match(/BEGIN CERTIFICATE/g)?.length, 1, 'the bundle file is rewritten from the state');
      await reopened.beginRotation();
      assert.equal(reopened.rotationState().phase, 'introduced');
    });

    test('retire: state written, old files not yet archived: reopens idle and finishes the archiving', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-rot', t });
      const ca = await open(dir);
      await ca.beginRotation();
      await ca.activateNext();
      const oldFiles = (await readdir(dir.join('ca'))).filter((n) => n.startsWith('root-'));
      await ca.retireOld();
      const after = summary(ca.rotationState());
      // Put the old root's files back where they were, as if the process died before moving them.
      for (const f of await readdir(dir.join('ca', 'archive'))) await writeFile(dir.join('ca', f), await readFile(dir.join('ca', 'archive', f)));
      await rm(dir.join('ca', 'archive'), { recursive: true });
      assert.equal((await readdir(dir.join('ca'))).filter((n) => n.startsWith('root-')).length, oldFiles.length);
      const reopened = await open(dir);
      assert.equal(summary(reopened.rotationState()), after);
      assert.equal((await readdir(dir.join('ca'))).filter((n) => n.startsWith('root-')).length, 2);
      assert.equal((await readdir(dir.join('ca', 'archive'))).length, 2);
    });

    test('first start: a root written but no state: the root is archived and a new one made', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-rot', t });
      const first = await open(dir);
      await rm(dir.join('ca', 'state.json'));
      const reopened = await open(dir);
      assert.notEqual(reopened.caHash, first.caHash);
      assert.equal((await readdir(dir.join('ca', 'archive'))).length, 2);
    });

    test('activate: one rename, so either phase; a stale bundle file is rewritten', async (t) => {
      const dir = await createTmpDir({ prefix: 'ca-rot', t });
      const ca = await open(dir);
      await ca.beginRotation();
      await writeFile(dir.join('ca', 'ca.crt'), 'stale');
      const reopened = await open(dir);
      assert.equal(reopened.rotationState().phase, 'introduced');
      assert.equal(await readFile(dir.join('ca', 'ca.crt'), 'utf8'), reopened.trustBundle.join(''));
    });
  });

  test('damaged files are refused with the file named', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-rot', t });
    await open(dir);
    const stateFile = dir.join('ca', 'state.json');
    const good = await readFile(stateFile, 'utf8');
    await writeFile(stateFile, '{not json');
    await assert.rejects(open(dir), codeOf('WEFT_ERR_CA_FILES_INVALID', /state\.json: is not JSON/));
    await writeFile(stateFile, JSON.stringify({ ...(JSON.parse(good) as object), phase: 'activated' }));
    await assert.rejects(open(dir), codeOf('WEFT_ERR_CA_FILES_INVALID', /do not fit phase activated/));
    await writeFile(stateFile, good);
    const keyName = (await readdir(dir.join('ca'))).find((n) => n.endsWith('.key')) ?? '';
    const key = await readFile(dir.join('ca', keyName));
    await rm(dir.join('ca', keyName));
    await assert.rejects(open(dir), codeOf('WEFT_ERR_CA_FILES_INVALID', /\.key: is missing/));
    // Another root's key in its place.
    const other = await createTmpDir({ prefix: 'ca-rot', t });
    await open(other);
    const otherKey = (await readdir(other.join('ca'))).find((n) => n.endsWith('.key')) ?? '';
    await writeFile(dir.join('ca', keyName), await readFile(other.join('ca', otherKey)), { mode: 0o644 });
    await assert.rejects(open(dir), codeOf('WEFT_ERR_CA_FILES_INVALID', /is not the key of/));
    await writeFile(dir.join('ca', keyName), key);
    await open(dir);
    assert.equal((await stat(dir.join('ca', keyName))).mode & 0o777, 0o600, 'a key readable by others is narrowed to 0600');
  });
});

describe('the key file mode', () => {
  test('a root key written 0644 by hand is narrowed to 0600 on open; the directory to 0700', async (t) => {
    const dir = await createTmpDir({ prefix: 'ca-mode', t });
    await open(dir);
    const keyName = (await readdir(dir.join('ca'))).find((n) => n.endsWith('.key')) ?? '';
    await chmod(join(dir.path, 'ca', keyName), 0o644);
    await chmod(join(dir.path, 'ca'), 0o755);
    await open(dir);
    assert.equal((await stat(join(dir.path, 'ca', keyName))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir.path, 'ca'))).mode & 0o777, 0o700);
  });
});
