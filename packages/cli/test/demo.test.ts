import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * `weft demo` end to end, from sources, as a newcomer runs it: the bookstore answers
 * through the mesh (its page needs the Python ratings service, two sidecars away), the
 * status page shows traffic for every service, and Ctrl-C (SIGINT) stops everything with
 * exit 0 and no process left behind; a child that dies stops the demo with exit 1.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The `weft` bin, running the bundle: exactly what `npm start` runs. */
const WEFT_BIN = join(REPO, 'packages/cli/bin/weft.js');

/** `weft demo --port 0`: the status page on a free port. */
const demoArgs = (): string[] => ['demo', '--port', '0'];

interface DemoReady {
  statusUrl: string;
  bookstoreUrl: string;
  dataDir: string;
  processes: { name: string; role: string; pid: number }[];
  reaperPid: number;
}

interface RunningDemo {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly ready: Promise<DemoReady>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const withTimeout = async <T>(p: Promise<T>, ms: number, what: () => string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Starts the demo from the built bin (the README's first command runs it so: a path that
 * only works from the sources would go unnoticed otherwise), with its data in a fresh
 * temporary folder; everything is killed after the test.
 */
const startDemo = async (t: TestContext): Promise<RunningDemo> => {
  const dataDir = await mkdtemp(join(tmpdir(), 'weft-demo-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WEFT_DATA_DIR: dataDir, WEFT_DEMO_PORT: '0', NO_COLOR: '1' };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn(process.execPath, [WEFT_BIN, ...demoArgs()], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  let resolveReady!: (r: DemoReady) => void;
  const ready = new Promise<DemoReady>((r) => (resolveReady = r));
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    text += chunk;
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^weft demo ready (\{.*\})$/.exec(line);
      if (m) resolveReady(JSON.parse(m[1] as string) as DemoReady);
    }
  });
  child.stderr?.on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  let knownIds = new Map<number, string | undefined>();
  void ready.then((r) => (knownIds = identitiesOf(r)));
  t.after(async () => {
    // Whatever happened in the test: nothing of the demo may survive it.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    for (const [pid, id] of knownIds) {
      if (id === undefined || identityOf(pid) !== id) continue; // gone, or the pid is someone else's now
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        process.kill(pid, 'SIGKILL');
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });
  return {
    child,
    output: () => text,
    ready: Promise.race([
      ready,
      exited.then((e) => {
        throw new Error(`weft demo exited (code ${String(e.code)}, signal ${String(e.signal)}) before it was ready:\n${text}`);
      }),
    ]),
    exited,
  };
};

/** Every pid the demo reported: its children and the reaper. */
const pidsOf = (r: DemoReady): number[] => [...r.processes.map((p) => p.pid), r.reaperPid];

/**
 * A process's identity: its pid and its start time (field 22 of /proc/PID/stat), because pids
 * are reused, and quickly on machines with a small pid_max. Undefined when it does not exist.
 */
const identityOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid}@${fields[19] ?? '?'}`; // fields[0] is field 3 (state); starttime is field 22
  } catch {
    return isAlive(pid) && process.platform !== 'linux' ? `${pid}` : undefined;
  }
};

/** The identities of the demo's processes while they run. */
const identitiesOf = (r: DemoReady): Map<number, string | undefined> => new Map(pidsOf(r).map((pid) => [pid, identityOf(pid)]));

const assertAllGone = async (r: DemoReady, before: Map<number, string | undefined>): Promise<void> => {
  // The demo waits for its children before exiting; allow a moment for the kernel anyway.
  const stillThere = (): number[] => pidsOf(r).filter((pid) => before.get(pid) !== undefined && identityOf(pid) === before.get(pid));
  const deadline = Date.now() + 2000;
  let alive = stillThere();
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(100);
    alive = stillThere();
  }
  const names = alive.map((pid) => {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(0, 200);
    } catch {
      cmd = '?';
    }
    return `${r.processes.find((p) => p.pid === pid)?.name ?? 'reaper'} (pid ${pid}: ${cmd})`;
  });
  assert.deepEqual(names, [], 'every process of the demo has ended');
};

interface StatusJson {
  services: { name: string; signals: { rps: number | null; total: number } }[];
  canaries: { service: string; backends: { label: string; total: number }[] }[];
}

// The bin runs packages/cli/bundle; make it from the sources now (esbuild: about a second),
// so that this test never runs a stale bundle.
before(() => {
  execFileSync(process.execPath, [join(REPO, 'scripts/bundle.mjs')], { cwd: REPO, stdio: 'inherit' });
});

test('weft demo: the bookstore answers through the mesh, the status page shows traffic, SIGINT stops everything', { timeout: 55_000 }, async (t) => {
  const demo = await startDemo(t);
  const ready = await withTimeout(demo.ready, 30_000, () => `no "weft demo ready" line within 30 s:\n${demo.output()}`);
  assert.match(demo.output(), /Status page: +http:\/\/127\.0\.0\.1:\d+\//);
  assert.equal(ready.processes.filter((p) => p.role === 'sidecar').length, 6, 'an ingress sidecar and one per instance');
  assert.equal(ready.processes.filter((p) => p.role === 'app').length, 5);
  assert.equal(ready.processes.filter((p) => p.role === 'control-plane').length, 1);
  const identities = identitiesOf(ready);
  assert.ok([...identities.values()].every((id) => id !== undefined), 'every process the demo listed is running');

  // The front page: catalog's books, each with reviews and the ratings that reviews got from
  // the Python service, every call through two sidecars.
  // A newcomer's first look must be complete; allow a retry or two for a transient failure.
  let html = '';
  const attempts: string[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(ready.bookstoreUrl, { signal: AbortSignal.timeout(10_000) });
    html = await res.text();
    if (res.status === 200 && (html.match(/data-rating="[\d.]+"/g) ?? []).length === 5) break;
    attempts.push(`HTTP ${res.status}: ${html.slice(0, 2000)}`);
    await sleep(500);
  }
  assert.ok(attempts.length < 3, `the front page failed 3 times:\n${attempts.join('\n---\n')}`);
  const books = html.match(/<article class="book/g) ?? [];
  assert.equal(books.length, 5, 'five books from catalog');
  assert.equal((html.match(/class="review"/g) ?? []).length, 10, 'two reviews per book from reviews');
  assert.equal((html.match(/data-rating="[\d.]+"/g) ?? []).length, 5, `every book has its rating from ratings:\n${html}`);
  assert.match(html, /ratings by Python 3\.\d+/);

  // The status page: traffic for every service, and the canary's split, within ~15 s.
  const deadline = Date.now() + 15_000;
  let status: StatusJson | undefined;
  const busy = (s: StatusJson | undefined): boolean =>
    s !== undefined &&
    s.services.length === 4 &&
    s.services.every((svc) => (svc.signals.rps ?? 0) > 0) &&
    (s.canaries[0]?.backends.every((b) => b.total > 0) ?? false);
  while (Date.now() < deadline && !busy(status)) {
    await sleep(500);
    const r = await fetch(`${ready.statusUrl}api/status`, { signal: AbortSignal.timeout(5000) });
    status = (await r.json()) as StatusJson;
  }
  assert.ok(busy(status), `every service shows traffic and both canary subsets served requests:\n${JSON.stringify(status, null, 2)}`);
  const page = await (await fetch(ready.statusUrl, { signal: AbortSignal.timeout(5000) })).text();
  for (const svc of ['web', 'catalog', 'reviews', 'ratings']) assert.match(page, new RegExp(`data-service="${svc}" data-rps="[\\d.]+"`));
  assert.match(page, /Canary: reviews/);

  // The control plane configures every sidecar: all six connected, in sync, each with a
  // workload certificate from its CA.
  const api = /Control plane: (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.output())?.[1];
  assert.ok(api, 'the banner names the control plane');
  const admin = (await readFile(join(ready.dataDir, 'control-plane', 'admin-token'), 'utf8')).trim();
  const proxies = (await (await fetch(`${api}/api/v1/proxies`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { items: { workload: string; inSync: boolean; certificate?: { spiffeId: string } }[] };
  assert.deepEqual(proxies.items.map((p) => p.workload).sort(), ['catalog', 'ingress', 'ratings', 'reviews-v1', 'reviews-v2', 'web']);
  assert.ok(proxies.items.every((p) => p.inSync && p.certificate?.spiffeId.startsWith('spiffe://cluster.local/ns/default/sa/')), JSON.stringify(proxies.items, null, 2));

  // Ctrl-C: everything stops, exit 0, nothing left behind.
  demo.child.kill('SIGINT');
  const exit = await withTimeout(demo.exited, 20_000, () => `not stopped 20 s after SIGINT:\n${demo.output()}`);
  assert.deepEqual(exit, { code: 0, signal: null }, demo.output());
  assert.match(demo.output(), /Stopped: all 12 processes ended/);
  await assertAllGone(ready, identities);
});

test('weft demo: a child that dies stops the demo with exit 1, saying which and why', { timeout: 40_000 }, async (t) => {
  const demo = await startDemo(t);
  const ready = await withTimeout(demo.ready, 30_000, () => `no "weft demo ready" line within 30 s:\n${demo.output()}`);
  const identities = identitiesOf(ready);
  const ratings = ready.processes.find((p) => p.name === 'ratings app');
  assert.ok(ratings, 'the ratings app is listed');
  process.kill(ratings.pid, 'SIGKILL');
  const exit = await withTimeout(demo.exited, 20_000, () => `still running 20 s after a child died:\n${demo.output()}`);
  assert.deepEqual(exit, { code: 1, signal: null }, demo.output());
  assert.match(demo.output(), new RegExp(`ratings app \\(pid ${ratings.pid}\\) stopped unexpectedly: killed by SIGKILL`));
  await assertAllGone(ready, identities);
});
