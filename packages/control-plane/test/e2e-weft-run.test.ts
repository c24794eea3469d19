/**
 * End to end with real processes, everything under `weft run`: a `weft control-plane`
 * (file store), `reviews` v1 and v2 (two Node instances of one Service, labelled by
 * version), `ratings` (a Python standard-library server) and a caller `web` (a Node app
 * that calls `http://reviews/` and `http://ratings/` through the HTTP_PROXY weft run gives
 * it). `weft apply -f` of subset Services and an HTTPRoute shifts reviews traffic from v1 to
 * v2, and the shift is seen at the caller; then the v2 instance is killed (SIGKILL of weft
 * run, its sidecar and its app) and, after the grace period, withdrawn: the caller only
 * reaches v1 and `weft get workloads` shows v2 UNHEALTHY/Withdrawn.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createJoinToken, createTmpDir, freePort, startWeft, type WeftProcess } from '@weft/testing';

/** `reviews`: answers `reviews VERSION` on every path. argv: PORT VERSION. */
const REVIEWS_APP = `
import http from 'node:http';
const [port, version] = process.argv.slice(2);
http.createServer((req, res) => { req.resume(); res.end('reviews ' + version); })
  .listen(Number(port), '127.0.0.1', () => console.log('app reviews ' + version + ' listening'));
`;

/** `ratings`: a Python standard-library HTTP server answering `ratings`. argv: PORT. */
const RATINGS_APP = `
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'ratings'
        self.send_response(200)
        self.send_header('content-length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
print('app ratings listening', flush=True)
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
`;

/**
 * \`web\`, the caller: GET /call/SVC on its own port calls \`http://SVC/\` through HTTP_PROXY
 * and answers \`STATUS BODY\` (or \`error MESSAGE\`). argv: PORT.
 */
const WEB_APP = `
import http from 'node:http';
const proxy = new URL(process.env.HTTP_PROXY);
const call = (svc) => new Promise((resolve) => {
  const req = http.get({ host: proxy.hostname, port: proxy.port, path: 'http://' + svc + '/', headers: { host: svc }, agent: false, timeout: 3000 }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve(res.statusCode + ' ' + body.trim()));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (err) => resolve('error ' + err.message));
});
http.createServer(async (req, res) => {
  const m = /^\\/call\\/([a-z0-9-]+)$/.exec(req.url ?? '');
  req.resume();
  if (!m) { res.statusCode = 404; res.end('no'); return; }
  res.end(await call(m[1]));
}).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('app web listening'));
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the last poll saw, for the timeout message. */
let lastSeen = '';

const eventually = async (what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<number> => {
  lastSeen = '';
  const start = Date.now();
  for (;;) {
    try {
      if (await fn()) return Date.now() - start;
    } catch {
      // Not yet.
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (last seen: ${lastSeen})`);
    await sleep(100);
  }
};

/** Direct children of `pid` (Linux /proc), for cleaning up a `weft run` whose sidecar is detached. */
const childrenOf = (pid: number): number[] => {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
};

const killQuietly = (pid: number, signal: NodeJS.Signals): void => {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
};

test('weft run e2e: apply shifts reviews v1 -> v2 at the caller, Python ratings served throughout, a killed instance is withdrawn', { timeout: 60_000 }, async (t) => {
  const started = Date.now();
  const dir = await createTmpDir({ prefix: 'e2e-run', t });
  await writeFile(dir.join('reviews.mjs'), REVIEWS_APP);
  await writeFile(dir.join('ratings.py'), RATINGS_APP);
  await writeFile(dir.join('web.mjs'), WEB_APP);

  const cpDir = dir.join('cp');
  const cp = startWeft(['control-plane', '--store', 'file', '--data-dir', cpDir, '--api-addr', '127.0.0.1:0', '--stream-addr', '127.0.0.1:0', '--endpoint-grace', '300'], { t });
  const cpPorts = JSON.parse((await cp.waitForLine(/^weft control-plane ready (\{.*\})$/, 30_000, { stream: 'stdout' }))[1] ?? '{}') as { api: number; stream: number };
  assert.ok(cpPorts.api > 0 && cpPorts.stream > 0, cp.output());
  const apiUrl = `http://127.0.0.1:${cpPorts.api}`;

  // Every instance under `weft run`. Cleanup: SIGTERM (forwarded to the app, then the sidecar
  // drains), and whatever is left (weft run, its detached sidecar, its app) gets SIGKILL.
  const runs: WeftProcess[] = [];
  const instanceChildren = new Map<WeftProcess, Set<number>>();
  // Each instance joins with a token for its service, in a file (not in its environment,
  // which the app would inherit): `weft token create --service NAME > FILE`.
  const tokenFile = async (service: string): Promise<string> => {
    const file = dir.join(`${service}.token`);
    await writeFile(file, await createJoinToken({ apiPort: cpPorts.api, dataDir: cpDir }, service), { mode: 0o600 });
    return file;
  };
  const weftRun = async (name: string, args: string[], command: string[]): Promise<WeftProcess> => {
    const service = args[args.indexOf('--service') + 1] ?? '';
    const run = startWeft(['run', '--control-plane', `127.0.0.1:${cpPorts.stream}`, '--token-file', await tokenFile(service), '--data-dir', dir.join(name), '--drain-timeout', '300', ...args, '--', ...command]);
    runs.push(run);
    instanceChildren.set(run, new Set());
    return run;
  };
  const remember = (run: WeftProcess): void => {
    const set = instanceChildren.get(run);
    if (run.pid !== undefined && set !== undefined) for (const c of childrenOf(run.pid)) set.add(c);
  };
  t.after(async () => {
    for (const run of runs) remember(run);
    await Promise.all(runs.map((run) => run.stop('SIGTERM', 5000)));
    for (const set of instanceChildren.values()) for (const pid of set) killQuietly(pid, 'SIGKILL');
  });

  const [v1Port, v2Port, ratingsPort, webPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const v1 = await weftRun('reviews-v1', ['--service', 'reviews', '--workload', 'reviews-v1-a', '--label', 'version=v1', '--app-port', String(v1Port)], [process.execPath, dir.join('reviews.mjs'), String(v1Port), 'v1']);
  const v2 = await weftRun('reviews-v2', ['--service', 'reviews', '--workload', 'reviews-v2-a', '--label', 'version=v2', '--app-port', String(v2Port)], [process.execPath, dir.join('reviews.mjs'), String(v2Port), 'v2']);
  const ratings = await weftRun('ratings', ['--service', 'ratings', '--workload', 'ratings-a', '--app-port', String(ratingsPort)], ['python3', dir.join('ratings.py'), String(ratingsPort)]);
  const web = await weftRun('web', ['--service', 'web', '--workload', 'web-a', '--app-port', String(webPort)], [process.execPath, dir.join('web.mjs'), String(webPort)]);
  await Promise.all([
    v1.waitForLine(/^app reviews v1 listening$/, 30_000),
    v2.waitForLine(/^app reviews v2 listening$/, 30_000),
    ratings.waitForLine(/^app ratings listening$/, 30_000),
    web.waitForLine(/^app web listening$/, 30_000),
  ]);
  for (const run of runs) remember(run);

  /** One call made by web through its sidecar: `STATUS BODY` or `error ...`. */
  const call = async (svc: string): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${webPort}/call/${svc}`, { signal: AbortSignal.timeout(5000) });
    return await res.text();
  };
  const calls = async (svc: string, n: number): Promise<Map<string, number>> => {
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = await call(svc);
      counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    lastSeen = show(counts);
    return counts;
  };
  const only = (counts: Map<string, number>, what: string): boolean => counts.size === 1 && counts.has(what);
  const show = (counts: Map<string, number>): string => JSON.stringify(Object.fromEntries(counts));

  // Through the mesh before any route: ratings (Python) answers; reviews reaches both versions.
  await eventually('web reaches ratings', async () => (await call('ratings')) === '200 ratings', 15_000);
  await eventually('web reaches reviews v1 and v2', async () => {
    const c = await calls('reviews', 10);
    return c.get('200 reviews v1') !== undefined && c.get('200 reviews v2') !== undefined;
  }, 15_000);

  const apply = async (name: string, yaml: string): Promise<void> => {
    const file = dir.join(`${name}.yaml`);
    await writeFile(file, yaml);
    const p = startWeft(['apply', '-f', file, '--api', apiUrl, '--data-dir', cpDir], { t, env: { WEFT_ADMIN_TOKEN: undefined } });
    const exit = await p.exited;
    assert.equal(exit.code, 0, `weft apply ${name}:\n${p.output()}`);
  };
  const route = (w1: number, w2: number): string => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews-split
spec:
  parentRefs:
    - { group: "", kind: Service, name: reviews }
  rules:
    - name: split
      backendRefs:
        - { name: reviews-v1, port: 80, weight: ${w1} }
        - { name: reviews-v2, port: 80, weight: ${w2} }
`;
  const subsets = ['v1', 'v2'].map((v) => `apiVersion: weft.dev/v1alpha1
kind: Service
metadata:
  name: reviews-${v}
spec:
  subsetOf:
    service: reviews
    labels: { version: ${v} }
`).join('---\n');

  // 100% to v1.
  await apply('v1-only', `${subsets}---\n${route(100, 0)}`);
  await eventually('all reviews calls go to v1', async () => only(await calls('reviews', 10), '200 reviews v1'));
  const allV1 = await calls('reviews', 30);
  assert.ok(only(allV1, '200 reviews v1'), show(allV1));
  assert.equal(await call('ratings'), '200 ratings');

  // Shift: 100% to v2, observed at the caller within a few seconds.
  await apply('v2-only', route(0, 100));
  const shiftMs = await eventually('all reviews calls go to v2', async () => only(await calls('reviews', 10), '200 reviews v2'), 5_000);
  const allV2 = await calls('reviews', 30);
  assert.ok(only(allV2, '200 reviews v2'), show(allV2));
  assert.equal(await call('ratings'), '200 ratings');

  // 50/50: both answer.
  await apply('split', route(50, 50));
  await eventually('reviews split between v1 and v2', async () => {
    const c = await calls('reviews', 20);
    return c.size === 2 && c.has('200 reviews v1') && c.has('200 reviews v2');
  }, 5_000);

  // Back to plain reviews (every instance), so that v1 can take over when v2 goes. (With the
  // 50/50 subset split kept, v2's share answers 503 UH once its subset has no endpoints.)
  await apply('plain', `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews-split
spec:
  parentRefs:
    - { group: "", kind: Service, name: reviews }
  rules:
    - name: split
      backendRefs:
        - { name: reviews, port: 80 }
`);
  await eventually('plain reviews reaches v1 and v2', async () => {
    const c = await calls('reviews', 20);
    return c.size === 2 && c.has('200 reviews v1') && c.has('200 reviews v2');
  }, 5_000);

  // The v2 instance dies hard: weft run, its sidecar and its app all get SIGKILL, so its
  // config stream drops without a goodbye. After the grace period it is withdrawn.
  assert.ok(v2.pid !== undefined);
  const v2Tree = [...(instanceChildren.get(v2) ?? [])].flatMap((pid) => [pid, ...childrenOf(pid)]);
  assert.ok(v2Tree.length >= 2, `weft run's sidecar and app found (${v2Tree.join(',')})`);
  killQuietly(v2.pid, 'SIGKILL');
  for (const pid of v2Tree) killQuietly(pid, 'SIGKILL');
  await v2.exited;
  const killedAt = Date.now();
  const withdrawnMs = await eventually('all reviews calls go to v1 again', async () => only(await calls('reviews', 20), '200 reviews v1'), 5_000);
  const afterKill = await calls('reviews', 30);
  assert.ok(only(afterKill, '200 reviews v1'), show(afterKill));
  assert.equal(await call('ratings'), '200 ratings');

  // `weft get workloads -o json`: v2 is UNHEALTHY and Withdrawn, the others HEALTHY.
  interface Wl { metadata: { name: string }; status?: { health?: string; conditions?: { type: string; reason: string }[] } }
  const workloads = async (): Promise<Wl[]> => {
    const p = startWeft(['get', 'workloads', '-o', 'json', '--api', apiUrl, '--data-dir', cpDir], { t, env: { WEFT_ADMIN_TOKEN: undefined } });
    const exit = await p.exited;
    assert.equal(exit.code, 0, p.output());
    const text = p.lines.filter((l) => l.stream === 'stdout').map((l) => l.text).join('\n');
    const parsed = JSON.parse(text) as Wl[] | { items: Wl[] };
    return Array.isArray(parsed) ? parsed : parsed.items;
  };
  const wl = await workloads();
  const byName = new Map(wl.map((w) => [w.metadata.name, w]));
  assert.equal(byName.get('reviews-v2-a')?.status?.health, 'UNHEALTHY', JSON.stringify(wl));
  assert.equal(byName.get('reviews-v2-a')?.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'Withdrawn', JSON.stringify(wl));
  for (const name of ['reviews-v1-a', 'ratings-a', 'web-a']) assert.equal(byName.get(name)?.status?.health, 'HEALTHY', `${name}: ${JSON.stringify(wl)}`);

  t.diagnostic(`shift seen at the caller ${shiftMs} ms after apply; v2 withdrawn ${withdrawnMs} ms after its kill (${Date.now() - killedAt} ms incl. checks); total ${Date.now() - started} ms`);
});
