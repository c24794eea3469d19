/**
 * Lifecycle of real `weft proxy` processes: config swaps under load, drain under load
 * (SIGTERM), and what the admin port reports (/ready, /config, /metrics).
 */
import assert from 'node:assert/strict';
import { Agent, createServer, request } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ProxyBootstrapSchema, ProxySnapshotSchema } from '@weft/api';
import { createLogger } from '@weft/core';
import { createTmpDir, freePort, startHttp1Echo, startWeft } from '@weft/testing';
import { Proxy } from '../src/index.js';
import {
  adminGet,
  eventually,
  makePki,
  snapshot,
  startMesh,
  startProxy,
  tlsTransport,
  waitForVersion,
  type Mesh,
  type ProxyProcess,
  upstreamPortOf,
} from './http1-mesh-fixture.js';

interface Reply {
  status: number;
  servedBy: string;
  body: Buffer;
}

/** One GET on `agent`; resolves with the reply, rejects on any transport failure. */
const get = (agent: Agent, port: number, path: string): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { host: 'svc' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });

/** A suite-level context whose cleanups run in `after`. */
const suiteContext = (): { after: (fn: () => Promise<unknown>) => void; cleanup: () => Promise<void> } => {
  const fns: (() => Promise<unknown>)[] = [];
  return {
    after: (fn) => {
      fns.push(fn);
    },
    cleanup: async () => {
      for (const fn of fns.reverse()) await fn();
    },
  };
};

/** Does a TCP connect to `port` succeed? */
const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('config swap under load (TLS between proxies)', () => {
  // Two inbound proxies (v1, v2 apps) behind one outbound proxy, started once for the test.
  const ctx = suiteContext();
  let out: ProxyProcess;
  let port: number;
  let outSnap: (endpointsVersion: string, endpoints: object[], routesVersion?: string, routes?: object[]) => object;
  let epA: { address: string; port: number; labels: Record<string, string> };
  let epB: { address: string; port: number; labels: Record<string, string> };

  before(async () => {
    const dir = await createTmpDir({ prefix: 'swap', t: ctx as { after: (fn: () => Promise<void>) => void } });
    // TLS between the proxies: the harder case (pools keep TLS sessions across swaps).
    const pki = await makePki(ctx);
    const v1 = await startHttp1Echo({ name: 'v1' });
    ctx.after(v1.close);
    const v2 = await startHttp1Echo({ name: 'v2' });
    ctx.after(v2.close);
    const inboundSnapshot = (name: string): object => snapshot({ transport: tlsTransport(pki, name) });
    // Inbound ports chosen up front, so that all three proxies start at once.
    const [portA, portB] = [await freePort(), await freePort()];
    epA = { address: '127.0.0.1', port: portA, labels: { version: 'v1' } };
    epB = { address: '127.0.0.1', port: portB, labels: { version: 'v2' } };
    outSnap = (endpointsVersion, endpoints, routesVersion = 'r1', routes = []) =>
      snapshot({
        routesVersion,
        endpointsVersion,
        services: [{ name: 'svc', ports: [{ port: 9080 }], routes }],
        endpoints: { 'svc.default': endpoints as { address: string; port: number }[] },
        transport: tlsTransport(pki, 'outbound'),
      });
    [, , out] = await Promise.all([
      startProxy(ctx, dir, inboundSnapshot('inbound'), ['--service', 'svc', '--port', String(portA), '--app-port', String(v1.port), '--label', 'version=v1']),
      startProxy(ctx, dir, inboundSnapshot('inbound-b'), ['--service', 'svc', '--port', String(portB), '--app-port', String(v2.port), '--label', 'version=v2']),
      startProxy(ctx, dir, outSnap('e1', [epA]), ['--service', 'client', '--upstream', 'svc:0']),
    ]);
    port = upstreamPortOf(out, 'svc');
  });
  after(() => ctx.cleanup());

  test('2000 requests over 16 keep-alive connections while endpoints change: zero failures, both backends serve', async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(async () => {
      agent.destroy();
    });
    const TOTAL = 2000;
    let sent = 0;
    let done = 0;
    const failures: string[] = [];
    const servedBy: string[] = [];
    const worker = async (): Promise<void> => {
      while (sent < TOTAL && failures.length === 0) {
        sent++;
        try {
          const r = await get(agent, port, '/hello');
          if (r.status !== 200) failures.push(`status ${r.status}: ${r.body.toString().slice(0, 300)}`);
          servedBy[done++] = r.servedBy;
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const t1 = Date.now();
    const load = Promise.all(Array.from({ length: 16 }, () => worker()));

    // Swap while the load runs: A -> B -> A+B -> subset route to v2 only -> A+B (new routes).
    const steps: [string, object][] = [
      ['r1/e2', outSnap('e2', [epB])],
      ['r1/e3', outSnap('e3', [epA, epB])],
      ['r2/e3', outSnap('e3', [epA, epB], 'r2', [{ backendRefs: [{ service: 'svc.default', subset: { version: 'v2' } }] }])],
      ['r3/e4', outSnap('e4', [epB, epA], 'r3')],
    ];
    const marks: number[] = [];
    let beforeFirstSwap = 0;
    for (const [version, snap] of steps) {
      await eventually('load under way', () => done > marks.length * 300 + 100 || sent >= TOTAL, 20_000);
      if (sent >= TOTAL) break;
      if (marks.length === 0) beforeFirstSwap = done;
      await out.writeConfig(snap);
      await waitForVersion(out, version);
      marks.push(done);
    }
    await load;
    t.diagnostic(`load and swaps took ${Date.now() - t1} ms`);
    assert.deepEqual(failures, [], `failed requests: ${failures.length}`);
    assert.equal(done, TOTAL);
    assert.equal(marks.length, steps.length, 'every swap happened while requests were running');
    // Before the first swap only v1 (the only endpoint); after "B only" was applied, v2.
    assert.ok(beforeFirstSwap > 0);
    assert.ok(servedBy.slice(0, beforeFirstSwap).every((s) => s === 'v1'), 'only v1 before the first swap');
    const counts = (from: number, to: number): Record<string, number> => {
      const c: Record<string, number> = {};
      for (const s of servedBy.slice(from, to)) c[s] = (c[s] ?? 0) + 1;
      return c;
    };
    t.diagnostic(`served: ${JSON.stringify(counts(0, TOTAL))}; swaps at ${marks.join(', ')}`);
    assert.ok((counts(marks[0] ?? 0, TOTAL)['v2'] ?? 0) > 0, 'v2 served after the swap');
    assert.ok((counts(marks[3] ?? 0, TOTAL)['v1'] ?? 0) > 0, 'v1 serves again once both are endpoints');
  });
});

describe('config swap with a request in flight on a retired pool', () => {
  test('a request retried after its pool was retired by a swap still completes', async (t) => {
    // The app holds `/close-later` on a reused connection, then closes that connection
    // without answering; meanwhile a swap (new limits) retires the inbound's app pool.
    const perSocket = new WeakMap<Socket, number>();
    let seen = 0;
    const server = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      req.resume();
      if (req.url === '/close-later') seen++;
      if (req.url === '/close-later' && n > 1) {
        setTimeout(() => req.socket.destroy(), 500);
        return;
      }
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.after(
      () =>
        new Promise<void>((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
    );
    // In process: the swap is Proxy.apply, what the file source calls on a change.
    const appPort = (server.address() as AddressInfo).port;
    const inbound = await Proxy.start(
      ProxyBootstrapSchema.parse({ service: 'svc', port: 0, appPort }),
      ProxySnapshotSchema.parse(snapshot({})),
      createLogger({ level: 'silent' }),
    );
    t.after(() => inbound.close());
    const port = inbound.ports.inbound as number;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(async () => {
      agent.destroy();
    });
    assert.equal((await get(agent, port, '/ok')).status, 200);
    const pending = get(agent, port, '/close-later');
    await eventually('the request reached the app', () => seen > 0);
    inbound.apply(ProxySnapshotSchema.parse(snapshot({ endpointsVersion: 'e2', limits: { idleTimeoutMs: 30_000 } })));
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(seen, 2, 'sent once more, on a fresh connection');
  });
});

/**
 * The admin port of a two-proxy mesh: `/config` reports the version (and a new one after a
 * swap); `/metrics` counts requests per reporter (source on the outbound proxy,
 * destination on the inbound one) and response code.
 */
const assertAdminReports = async (t: { after: (fn: () => Promise<unknown>) => void }, mesh: Mesh): Promise<void> => {
  const { outbound, inbound, upstreamPort } = mesh;
  const config = JSON.parse((await adminGet(outbound, '/config')).text) as {
    version: string;
    routesVersion: string;
    endpointsVersion: string;
    snapshot: { services: { name: string }[] };
  };
  assert.equal(config.version, 'r1/e1');
  assert.equal(config.routesVersion, 'r1');
  assert.equal(config.endpointsVersion, 'e1');
  assert.equal(config.snapshot.services[0]?.name, 'svc');
  assert.equal((await adminGet(outbound, '/live')).status, 200);

  const agent = new Agent({ keepAlive: true });
  t.after(async () => {
    agent.destroy();
  });
  for (let i = 0; i < 5; i++) assert.equal((await get(agent, upstreamPort, '/hello')).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await get(agent, upstreamPort, '/status/503')).status, 503);
  assert.equal((await get(agent, upstreamPort, '/nothing-here')).status, 404);

  const line = (text: string, reporter: string, code: number): string | undefined =>
    text.split('\n').find((l) => l.startsWith('istio_requests_total{') && l.includes(`reporter="${reporter}"`) && l.includes(`response_code="${code}"`));
  const value = (l: string | undefined): number => Number(l?.slice(l.lastIndexOf(' ') + 1));
  await eventually('metrics of both proxies count the requests', async () => {
    const src = (await adminGet(outbound, '/metrics')).text;
    const dst = (await adminGet(inbound, '/metrics')).text;
    return (
      value(line(src, 'source', 200)) === 5 &&
      value(line(src, 'source', 503)) === 3 &&
      value(line(src, 'source', 404)) === 1 &&
      value(line(dst, 'destination', 200)) === 5 &&
      value(line(dst, 'destination', 503)) === 3
    );
  });
  const src = (await adminGet(outbound, '/metrics')).text;
  assert.match(line(src, 'source', 200) ?? '', /destination_service_name="svc"/);
  assert.match(src, /istio_request_duration_milliseconds_bucket\{/);

  // A new config shows its version.
  await outbound.writeConfig(
    mesh.outboundSnapshot([{ address: '127.0.0.1', port: inbound.ports.inbound as number }], { routesVersion: 'r9', endpointsVersion: 'e9' }),
  );
  await waitForVersion(outbound, 'r9/e9');
  assert.equal((await get(agent, upstreamPort, '/hello')).status, 200);
};

/** Reads /ready of `p`; undefined once the admin port is gone. */
const ready = async (p: ProxyProcess): Promise<number | undefined> => {
  try {
    return (await adminGet(p, '/ready')).status;
  } catch {
    return undefined;
  }
};

describe('drain under load (SIGTERM)', () => {
  test('admin reports; then in-flight requests complete, /ready turns 503, new connections are refused, exit 0', async (t) => {
    const app = await startHttp1Echo({ name: 'app' });
    t.after(app.close);
    const pki = await makePki(t);
    const drainArgs = ['--drain-timeout', '8000'];
    const mesh = await startMesh(t, { appPort: app.port, pki, outboundArgs: drainArgs, inboundArgs: drainArgs });
    const { outbound, inbound, upstreamPort } = mesh;
    assert.equal(await ready(outbound), 200);
    assert.equal(await ready(inbound), 200);
    await assertAdminReports(t, mesh);

    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    t.after(async () => {
      agent.destroy();
    });
    // Warm the keep-alive connections, then put 16 slow requests in flight.
    await Promise.all(Array.from({ length: 16 }, () => get(agent, upstreamPort, '/hello')));
    const before = app.requests;
    const inFlight = Array.from({ length: 16 }, () => get(agent, upstreamPort, '/slow/1500'));
    await eventually('all 16 slow requests reached the app', () => app.requests - before >= 16);

    const startedAt = Date.now();
    outbound.proc.child.kill('SIGTERM');
    inbound.proc.child.kill('SIGTERM');
    // While draining: not ready, and no new connections on the listeners.
    await eventually('outbound /ready is 503', async () => (await ready(outbound)) === 503, 5000);
    await eventually('inbound /ready is 503', async () => (await ready(inbound)) === 503, 5000);
    const notReady = await adminGet(outbound, '/ready');
    assert.match(notReady.text, /draining/);
    assert.equal(await canConnect(upstreamPort), false, 'the outbound listener refuses new connections');
    assert.equal(await canConnect(inbound.ports.inbound as number), false, 'the inbound listener refuses new connections');

    const replies = await Promise.all(inFlight);
    assert.deepEqual(replies.map((r) => r.status), Array.from({ length: 16 }, () => 200), 'every in-flight request completed');
    for (const r of replies) assert.equal(r.body.length, 100);

    const [outExit, inExit] = await Promise.all([outbound.proc.exited, inbound.proc.exited]);
    const elapsed = Date.now() - startedAt;
    assert.equal(outExit.code, 0, outbound.proc.output());
    assert.equal(inExit.code, 0, inbound.proc.output());
    assert.ok(elapsed < 8000 + 3000, `exited ${elapsed} ms after SIGTERM: within the drain timeout`);
  });

  test('requests past the drain timeout are cut off and the process still exits 0', async (t) => {
    const app = await startHttp1Echo({ name: 'app' });
    t.after(app.close);
    // One proxy is enough here: the outbound sends straight to the app.
    const dir = await createTmpDir({ prefix: 'drain-deadline', t });
    const outbound = await startProxy(
      t,
      dir,
      snapshot({ services: [{ name: 'svc' }], endpoints: { 'svc.default': [{ address: '127.0.0.1', port: app.port }] } }),
      ['--service', 'client', '--upstream', 'svc:0', '--drain-timeout', '500'],
    );
    const agent = new Agent({ keepAlive: true });
    t.after(async () => {
      agent.destroy();
    });
    const before = app.requests;
    const stuck = get(agent, upstreamPortOf(outbound, 'svc'), '/slow/20000').then(
      (r) => `status ${r.status}`,
      (err: Error) => `failed: ${err.message}`,
    );
    await eventually('the slow request reached the app', () => app.requests > before);
    const code = await outbound.proc.stop('SIGTERM', 10_000);
    assert.equal(code, 0);
    assert.match(await stuck, /^failed/);
  });
});


describe('a port already taken at start', () => {
  /** A listener holding a loopback port, as another process would. */
  const holdPort = async (t: TestContext): Promise<number> => {
    const holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    return (holder.address() as AddressInfo).port;
  };

  const cases: { name: string; flag: RegExp; args: (busy: number, free: number) => string[] }[] = [
    { name: '--admin-port', flag: /--admin-port 127\.0\.0\.1:(\d+): cannot listen: .*EADDRINUSE/, args: (busy) => ['--upstream', 'svc:0', '--admin-port', String(busy)] },
    { name: '--port', flag: /--port 127\.0\.0\.1:(\d+): cannot listen: .*EADDRINUSE/, args: (busy, free) => ['--port', String(busy), '--app-port', String(free), '--admin-port', '0'] },
    { name: '--upstream', flag: /--upstream svc:(\d+): cannot listen: .*EADDRINUSE/, args: (busy) => ['--upstream', `svc:${busy}`, '--admin-port', '0'] },
  ];
  for (const c of cases) {
    test(`${c.name}: the sidecar exits 1 naming the flag, and leaves nothing listening`, async (t) => {
      const busy = await holdPort(t);
      const free = await freePort();
      const dir = await createTmpDir({ prefix: 'port-taken', t });
      const configFile = dir.join('snapshot.json');
      await writeFile(configFile, JSON.stringify(snapshot({})));
      const proc = startWeft(['proxy', '--service', 'svc', '--config', configFile, ...c.args(busy, free)], { t });
      // A start that fails must end the process: before, it printed the error and lived on
      // with its other listeners open, deaf to SIGTERM.
      const bound = new AbortController();
      const exit = await Promise.race([proc.exited, delay(15_000, undefined, { signal: bound.signal }).catch(() => undefined)]);
      bound.abort();
      assert.ok(exit !== undefined, `still running 15 s after a failed start:\n${proc.output()}`);
      assert.equal(exit.code, 1, proc.output());
      const m = await proc.waitForLine(c.flag, 1000, { stream: 'stderr' });
      assert.equal(Number(m[1]), busy, 'the message names the taken port');
      assert.match(proc.output(), /error WEFT_ERR_CONFIG_INVALID: /);
    });
  }
});
