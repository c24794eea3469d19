import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { ProxySnapshot } from '@weft/api';
import { WeftError } from '@weft/core';
import { FileSnapshotSource } from './file-snapshot-source.js';

const snapshotYaml = (routesVersion: string, port = 9001): string => `apiVersion: weft.dev/v1alpha1
kind: ProxySnapshot
routesVersion: ${routesVersion}
endpointsVersion: e1
services:
  - name: reviews
endpoints:
  reviews.default:
    - address: 127.0.0.1
      port: ${port}
`;

type Event = { kind: 'snapshot'; snapshot: ProxySnapshot } | { kind: 'rejected'; error: WeftError };

/** Collects what a source reports, and hands events out in order, each within a deadline. */
class Events {
  readonly #queue: Event[] = [];
  #waiter: ((e: Event) => void) | undefined;

  readonly handlers = {
    onSnapshot: (snapshot: ProxySnapshot) => this.#push({ kind: 'snapshot', snapshot }),
    onRejected: (error: WeftError) => this.#push({ kind: 'rejected', error }),
  };

  get pending(): number {
    return this.#queue.length;
  }

  next(timeoutMs = 5000): Promise<Event> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        reject(new Error(`no event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiter = (e) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(e);
      };
    });
  }

  #push(e: Event): void {
    if (this.#waiter !== undefined) this.#waiter(e);
    else this.#queue.push(e);
  }
}

const setup = async (t: TestContext, initial: string) => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-file-source-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'snapshot.yaml');
  await writeFile(file, initial);
  const source = new FileSnapshotSource(file, { debounceMs: 20 });
  t.after(() => source.close());
  return { dir, file, source };
};

const expectSnapshot = async (events: Events, routesVersion: string): Promise<ProxySnapshot> => {
  const e = await events.next();
  assert.equal(e.kind, 'snapshot', e.kind === 'rejected' ? e.error.message : '');
  assert.equal(e.snapshot.routesVersion, routesVersion);
  return e.snapshot;
};

const expectRejected = async (events: Events): Promise<WeftError> => {
  const e = await events.next();
  assert.equal(e.kind, 'rejected');
  return e.error;
};

test('load() reads and validates a YAML snapshot, applying defaults', async (t) => {
  const { source } = await setup(t, snapshotYaml('r1'));
  const s = await source.load();
  assert.equal(s.routesVersion, 'r1');
  assert.equal(s.services[0]?.namespace, 'default');
  assert.deepEqual(s.endpoints['reviews.default'], [{ address: '127.0.0.1', port: 9001, labels: {}, weight: 1 }]);
});

test('load() reads JSON too', async (t) => {
  const { source } = await setup(
    t,
    JSON.stringify({ apiVersion: 'weft.dev/v1alpha1', kind: 'ProxySnapshot', routesVersion: 'j', endpointsVersion: 'e' }),
  );
  assert.equal((await source.load()).routesVersion, 'j');
});

test('an invalid initial file names the field and line', async (t) => {
  const { file, source } = await setup(t, snapshotYaml('r1', 70000));
  await assert.rejects(source.load(), (err: unknown) => {
    assert.ok(err instanceof WeftError);
    assert.equal(err.code, 'WEFT_ERR_CONFIG_INVALID');
    assert.equal(err.message, `${file}:10:13: endpoints["reviews.default"][0].port: Too big: expected number to be <=65535`);
    assert.equal(err.context['line'], 10);
    assert.equal(err.context['field'], 'endpoints["reviews.default"][0].port');
    return true;
  });
});

test('a missing file is WEFT_ERR_CONFIG_READ', async (t) => {
  const { dir } = await setup(t, '');
  await assert.rejects(new FileSnapshotSource(join(dir, 'nope.yaml')).load(), (err: unknown) => {
    assert.ok(err instanceof WeftError);
    assert.equal(err.code, 'WEFT_ERR_CONFIG_READ');
    return true;
  });
});

test('a change to the file is picked up', async (t) => {
  const { file, source } = await setup(t, snapshotYaml('r1'));
  await source.load();
  const events = new Events();
  source.watch(events.handlers);
  await writeFile(file, snapshotYaml('r2'));
  await expectSnapshot(events, 'r2');
});

test('an invalid change is rejected with the field named, then a valid one is accepted', async (t) => {
  const { file, source } = await setup(t, snapshotYaml('r1'));
  await source.load();
  const events = new Events();
  source.watch(events.handlers);

  await writeFile(file, snapshotYaml('r2', 0));
  const err = await expectRejected(events);
  assert.equal(err.code, 'WEFT_ERR_CONFIG_INVALID');
  assert.match(err.message, /snapshot\.yaml:10:13: endpoints\["reviews\.default"\]\[0\]\.port: Too small/);

  await writeFile(file, snapshotYaml('r3'));
  await expectSnapshot(events, 'r3');
  assert.equal(events.pending, 0);
});

test('a replacement by atomic rename is picked up', async (t) => {
  const { dir, file, source } = await setup(t, snapshotYaml('r1'));
  await source.load();
  const events = new Events();
  source.watch(events.handlers);
  const tmp = join(dir, '.snapshot.yaml.tmp');
  await writeFile(tmp, snapshotYaml('r2'));
  await rename(tmp, file);
  await expectSnapshot(events, 'r2');
  // The rename replaced the inode; later in-place writes are still seen.
  await writeFile(file, snapshotYaml('r3'));
  await expectSnapshot(events, 'r3');
});

test('reload() re-reads now, and unchanged content is ignored', async (t) => {
  const { file, source } = await setup(t, snapshotYaml('r1'));
  await source.load();
  const events = new Events();
  source.watch(events.handlers);
  assert.equal(await source.reload(), 'unchanged');
  await writeFile(file, snapshotYaml('r2'));
  // reload() does not wait for the debounce; the file event that follows finds nothing new.
  assert.equal(await source.reload(), 'applied');
  await expectSnapshot(events, 'r2');
  assert.equal(await source.reload(), 'unchanged');
  await writeFile(file, 'kind: [');
  assert.equal(await source.reload(), 'rejected');
  assert.equal((await expectRejected(events)).code, 'WEFT_ERR_CONFIG_INVALID');
  assert.equal(events.pending, 0);
});

test('other files in the directory are ignored, and close() stops watching', async (t) => {
  const { dir, file, source } = await setup(t, snapshotYaml('r1'));
  await source.load();
  const events = new Events();
  source.watch(events.handlers);
  await writeFile(join(dir, 'other.yaml'), 'not: a snapshot');
  // A change to our file after the unrelated one is the first thing reported.
  await writeFile(file, snapshotYaml('r2'));
  await expectSnapshot(events, 'r2');
  source.close();
  await writeFile(file, snapshotYaml('r3'));
  assert.equal(await source.reload(), 'unchanged');
  assert.equal(events.pending, 0);
});
