import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { WeftError } from '@weft/core';
import { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from '@weft/proxy';
import { cliEntry, findUp } from '../paths.js';
import { loadDemoMesh, type DemoMesh } from './mesh-config.js';
import { Monitor, type EdgeInfo, type MonitoredSidecar, type ServiceInfo } from './monitor.js';
import { configureControlPlane } from './control-plane-setup.js';
import { demoPaths, DRAIN_TIMEOUT_MS, planMesh, portsNeeded, type MeshPlan, type PlannedInstance, type PlannedSidecar } from './plan.js';
import { freePorts } from './ports.js';
import { startStatusServer, type DemoStatus, type ProcessInfo, type StatusServer } from './status-page.js';
import { describeExit, Supervisor, type ChildExit, type ManagedChild } from './supervisor.js';
import { TrafficGenerator } from './traffic.js';

/**
 * `weft demo`: the bookstore of examples/demo on loopback. A `weft control-plane` (embedded
 * store, CA) is given the mesh as resources (Services, subset Services, the canary's
 * HTTPRoute) and one join token per service; every instance is a real process behind its
 * own `weft proxy` sidecar process, which joins with its token, gets its workload
 * certificate and its config from the control plane, and talks mTLS to the others; a
 * traffic generator calls the bookstore through an ingress sidecar; a status page shows
 * each service's golden signals and the canary, from the sidecars' metrics. Ctrl-C (or SIGTERM) drains the sidecars, stops the apps and exits 0; a child
 * that dies on its own stops everything with exit 1, saying which and why.
 */

export interface DemoOptions {
  /** Port of the status page on 127.0.0.1; 0 picks one; a busy port falls back to any. Default 7700, or WEFT_DEMO_PORT. */
  readonly port?: number;
  /** Weft's data dir; the demo writes under `<dataDir>/demo`. Default `./.weft`, or WEFT_DATA_DIR. */
  readonly dataDir?: string;
  /** The mesh description. Default examples/demo/mesh.yaml. */
  readonly meshFile?: string;
}

export const DEFAULT_STATUS_PORT = 7700;

/** Where examples/demo is, from the sources, dist/ or the bundle alike. */
const EXAMPLES_DIR = findUp(import.meta.url, 'examples/demo') ?? resolve('examples/demo');

/** The CLI's entry point this process runs (the bin, or main.ts from sources): sidecars run it too. */
const CLI_ENTRY = cliEntry();

const SIDECAR_READY_TIMEOUT_MS = 45_000;
const APP_READY_TIMEOUT_MS = 20_000;
const APP_GRACE_MS = 3000;

/**
 * Node flags the sidecars inherit: the tsx loader and the `weft-source` condition when the
 * demo runs from sources, nothing from the build. Flags that are about this process alone
 * (code to evaluate, test runner, debugger, watch mode) are left out.
 */
const nodeFlags = (): string[] => {
  const flags: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++;
      continue;
    }
    if (/^(--eval=|--print=|--test|--inspect|--debug|--watch|--input-type)/.test(a)) continue;
    flags.push(a);
  }
  return flags;
};

/** The environment of a child: ours, without what would confuse it. */
const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NODE_TEST_CONTEXT', 'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy']) {
    delete env[k];
  }
  return { ...env, ...extra };
};

const runtimeOf = (command: readonly string[]): string => {
  const exe = basename(command[0] ?? '');
  if (exe === 'node') return 'Node.js';
  if (/^python/.test(exe)) return 'Python';
  return exe;
};

const display = (p: string): string => {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') ? r : p;
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const out = (s = ''): void => {
  process.stdout.write(`${s}\n`);
};
const err = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

const envPort = (name: string): number | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : Number(v);
};

/** The ports a `weft proxy` reported on its ready line. */
interface ProxyReady {
  readonly inbound: number | null;
  readonly upstreams: Record<string, number>;
  readonly httpProxy: number | null;
  readonly admin: number;
}

interface RunningSidecar {
  readonly plan: PlannedSidecar;
  readonly child: ManagedChild;
  readonly ready: ProxyReady;
}

interface RunningApp {
  readonly instance: PlannedInstance;
  readonly child: ManagedChild;
}

/** GET a URL on loopback, resolving with the status (0 on a network error). */
const probe = (url: string, host: string, timeoutMs: number): Promise<{ status: number; body: string; error?: string }> =>
  new Promise((resolveProbe) => {
    const req = http.get(url, { headers: { host }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolveProbe({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(typeof res.headers['x-weft-error'] === 'string' ? { error: res.headers['x-weft-error'] } : {}) }));
      res.on('error', (e) => resolveProbe({ status: 0, body: '', error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolveProbe({ status: 0, body: '', error: e.message }));
  });

/** True when `pid` runs a weft demo (on Linux, by its command line; elsewhere, when it runs at all). */
const isDemo = async (pid: number): Promise<boolean> => {
  if (!isAlive(pid)) return false;
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('demo');
  } catch {
    return process.platform !== 'linux';
  }
};

/** Refuses to start a second demo in the same folder while the first runs (a stale pid file is ignored). */
const takeLock = async (file: string): Promise<void> => {
  const previous = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(previous) && previous > 0 && previous !== process.pid && (await isDemo(previous))) {
    throw new Error(`another weft demo (pid ${previous}) is running with data in ${display(dirname(file))}; stop it first, or use another data dir (WEFT_DATA_DIR)`);
  }
  await writeFile(file, `${process.pid}\n`);
};

/** Runs the demo until Ctrl-C, SIGTERM, or a child dying; then exits the process (0, or 1 on failure). */
export const runDemo = async (options: DemoOptions = {}): Promise<void> => {
  const statusPort = options.port ?? envPort('WEFT_DEMO_PORT') ?? DEFAULT_STATUS_PORT;
  if (!Number.isInteger(statusPort) || statusPort < 0 || statusPort > 65535) {
    err(`weft demo: --port must be a port number (0 picks a free one), got ${String(statusPort)}`);
    process.exit(2);
  }
  const dataDir = resolve(options.dataDir ?? process.env['WEFT_DATA_DIR'] ?? '.weft');
  const meshFile = resolve(options.meshFile ?? join(EXAMPLES_DIR, 'mesh.yaml'));
  const paths = demoPaths(join(dataDir, 'demo'));
  const lockFile = join(paths.dir, 'demo.pid');

  // The end of the demo: whichever comes first of a signal, a child dying, or a failed start.
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => {
    let settled = false;
    finish = (code) => {
      if (settled) return;
      settled = true;
      r(code);
    };
  });
  let stopRequested = false;
  let forced = false;
  const supervisor = new Supervisor({
    onUnexpectedExit: (child: ManagedChild, exit: ChildExit) => {
      if (stopRequested) return;
      stopRequested = true;
      err(`\nweft demo: ${child.name} (pid ${String(child.pid ?? '?')}) stopped unexpectedly: ${describeExit(exit)}.`);
      const tail = child.tail(12);
      if (tail.length > 0) err(`Its last output (all of it in ${display(child.spec.logFile)}):\n${tail.map((l) => `  | ${l}`).join('\n')}`);
      err('Stopping the demo.');
      finish(1);
    },
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopRequested) {
      stopRequested = true;
      out(`\n${signal} received: stopping the demo (sidecars drain first; Ctrl-C again to kill everything now).`);
      finish(0);
      return;
    }
    if (!forced) {
      forced = true;
      err('Killing every process of the demo now.');
      supervisor.killAllNow();
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  let traffic: TrafficGenerator | undefined;
  let monitor: Monitor | undefined;
  let statusServer: StatusServer | undefined;
  let lockTaken = false;

  const start = async (): Promise<void> => {
    const mesh = await loadDemoMesh(meshFile);
    await mkdir(paths.dir, { recursive: true });
    await takeLock(lockFile);
    lockTaken = true;
    // A fresh mesh each run: the control plane's store and CA, tokens, sidecar caches.
    for (const d of [paths.controlPlane, paths.tokens, paths.proxies, paths.logs]) await rm(d, { recursive: true, force: true });
    await mkdir(paths.logs, { recursive: true });

    const instanceCount = mesh.services.reduce((n, s) => n + s.instances.length, 0);
    out(`Weft demo: a bookstore of ${mesh.services.length} services (${instanceCount} instances) on loopback, each instance behind its own weft proxy sidecar.`);
    out(`  data in ${display(paths.dir)}: control-plane/ (store, CA), mesh-resources.yaml (what was applied), tokens/, proxies/, logs/`);

    supervisor.startReaper();
    const cp = await startControlPlane();
    if (stopRequested) return;
    const plan = planMesh(mesh, await freePorts(portsNeeded(mesh)), paths, `127.0.0.1:${cp.stream}`);
    await configureControlPlane(paths, plan, cp.api);
    if (stopRequested) return;
    controlPlaneApi = `http://127.0.0.1:${cp.api}`;

    out(`  starting ${plan.sidecars.length} sidecars and ${plan.instances.length} apps...`);
    const sidecars = await Promise.all(plan.sidecars.map((s) => startSidecarAndApp(s)));
    if (stopRequested) return;
    const ingress = sidecars.find((s) => s.plan === plan.ingress) as RunningSidecar;
    const ingressPort = ingress.ready.upstreams[mesh.ingress.to];
    if (ingressPort === undefined) throw new Error(`the ingress sidecar opened no listener for ${mesh.ingress.to}`);
    const bookstoreUrl = `http://127.0.0.1:${ingressPort}${mesh.traffic.path}`;

    // The first request through the whole mesh, before saying it is ready.
    const warm = await warmUp(bookstoreUrl, mesh.ingress.to);
    if (stopRequested) return;

    monitor = new Monitor({
      sidecars: sidecars.map(
        (s): MonitoredSidecar => ({
          name: s.plan.name,
          service: s.plan.service,
          labels: s.plan.instance?.labels ?? {},
          version: s.plan.instance?.version ?? '',
          adminPort: s.ready.admin,
          isIngress: s.plan.instance === undefined,
        }),
      ),
      services: mesh.services.map((s): ServiceInfo => ({ name: s.name, runtime: runtimeOf(s.instances[0]?.command ?? []) })),
      edges: edgesOf(mesh),
      canaries: plan.canaries,
    });
    monitor.start();
    traffic = new TrafficGenerator({
      host: '127.0.0.1',
      port: ingressPort,
      path: mesh.traffic.path,
      authority: mesh.ingress.to,
      ratePerSecond: mesh.traffic.ratePerSecond,
    });
    traffic.start();

    const processes = processList(sidecars);
    const m = monitor;
    const t = traffic;
    let statusUrl = '';
    statusServer = await startStatusServer('127.0.0.1', statusPort, (): DemoStatus => ({
      ...m.snapshot(),
      bookstoreUrl,
      statusUrl,
      dataDir: display(paths.dir),
      traffic: t.stats(),
      processes,
    }));
    statusUrl = `http://127.0.0.1:${statusServer.port}/`;
    if (stopRequested) return;

    printBanner(plan, mesh, sidecars, bookstoreUrl, statusUrl, statusServer, statusPort, controlPlaneApi);
    if (!warm.ok) err(`\nWarning: the bookstore did not answer through the mesh yet (${warm.why}); see the status page and ${display(paths.logs)}.`);
    out('\nPress Ctrl-C to stop.');
    out(
      `weft demo ready ${JSON.stringify({
        statusUrl,
        bookstoreUrl,
        dataDir: paths.dir,
        processes: processes.map((p) => ({ name: p.name, role: p.role, pid: p.pid })),
        reaperPid: supervisor.reaperPid,
      })}`,
    );
  };

  /** Starts the control plane (embedded store, CA) and resolves with its ports once it is ready. */
  const startControlPlane = async (): Promise<{ api: number; stream: number }> => {
    const child = supervisor.spawn({
      name: 'control plane',
      role: 'control-plane',
      command: process.execPath,
      args: [...nodeFlags(), CLI_ENTRY, 'control-plane', '--data-dir', paths.controlPlane, '--api-addr', '127.0.0.1:0', '--stream-addr', '127.0.0.1:0', '--store', 'file'],
      env: childEnv({}),
      logFile: join(paths.logs, 'control-plane.log'),
    });
    controlPlaneChild = child;
    const m = await child.waitForLine(/^weft control-plane ready (\{.*\})\s*$/, SIDECAR_READY_TIMEOUT_MS);
    const said = JSON.parse(m[1] as string) as { api?: number; stream?: number };
    if (said.api === undefined || said.stream === undefined) throw new Error(`the control plane said it was ready without its ports: ${m[0]}`);
    return { api: said.api, stream: said.stream };
  };
  let controlPlaneChild: ManagedChild | undefined;
  let controlPlaneApi = '';

  /** Starts one sidecar, then (once its ports are known) the app behind it. */
  const startSidecarAndApp = async (s: PlannedSidecar): Promise<RunningSidecar> => {
    const child = supervisor.spawn({
      name: `${s.name} sidecar`,
      role: 'sidecar',
      command: process.execPath,
      args: [...nodeFlags(), ...SIDECAR_NODE_FLAGS, CLI_ENTRY, 'proxy', ...s.args],
      env: childEnv(SIDECAR_ENV),
      logFile: join(paths.logs, `${s.name}.sidecar.log`),
    });
    const m = await child.waitForLine(/^weft proxy ready (\{.*\})\s*$/, SIDECAR_READY_TIMEOUT_MS);
    const said = JSON.parse(m[1] as string) as Partial<ProxyReady>;
    const ready: ProxyReady = {
      inbound: said.inbound ?? null,
      upstreams: said.upstreams ?? {},
      httpProxy: said.httpProxy ?? null,
      admin: said.admin ?? 0,
    };
    const running: RunningSidecar = { plan: s, child, ready };
    if (s.instance !== undefined && !stopRequested) apps.push(await startApp(s.instance, ready));
    return running;
  };

  const apps: RunningApp[] = [];
  const startApp = async (inst: PlannedInstance, ready: ProxyReady): Promise<RunningApp> => {
    const [cmd, ...args] = inst.command;
    const env: Record<string, string> = {
      ...inst.env,
      PORT: String(inst.appPort),
      HOST: '127.0.0.1',
      SERVICE_NAME: inst.service,
      SERVICE_VERSION: inst.version,
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    };
    for (const u of inst.upstreams) {
      const port = ready.upstreams[u];
      if (port !== undefined) env[`UPSTREAM_${u.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = `127.0.0.1:${port}`;
    }
    if (inst.usesHttpProxy && ready.httpProxy !== null) {
      env['HTTP_PROXY'] = `http://127.0.0.1:${ready.httpProxy}`;
      env['http_proxy'] = env['HTTP_PROXY'];
    }
    const child = supervisor.spawn({
      name: `${inst.name} app`,
      role: 'app',
      command: cmd === 'node' ? process.execPath : (cmd as string),
      args,
      cwd: dirname(meshFile),
      env: childEnv(env),
      logFile: join(paths.logs, `${inst.name}.app.log`),
    });
    await child.waitForLine(/listening on/, APP_READY_TIMEOUT_MS);
    return { instance: inst, child };
  };

  const warmUp = async (url: string, host: string): Promise<{ ok: boolean; why: string }> => {
    const deadline = Date.now() + 15_000;
    let why = 'no answer';
    while (Date.now() < deadline && !stopRequested) {
      const r = await probe(url, host, 5000);
      if (r.status === 200) return { ok: true, why: '' };
      why = r.status === 0 ? (r.error ?? 'connection failed') : `HTTP ${r.status}${r.error === undefined ? '' : ` ${r.error}`}`;
      await new Promise((res) => setTimeout(res, 250));
    }
    return { ok: false, why };
  };

  const processList = (sidecars: readonly RunningSidecar[]): ProcessInfo[] => {
    const list: ProcessInfo[] = [];
    if (controlPlaneChild !== undefined) {
      list.push({ name: controlPlaneChild.name, role: 'control-plane', pid: controlPlaneChild.pid, detail: `REST API ${controlPlaneApi} · store, CA, config stream` });
    }
    for (const s of sidecars) {
      const app = apps.find((a) => a.instance === s.plan.instance);
      if (app !== undefined) {
        list.push({ name: app.child.name, role: 'app', pid: app.child.pid, detail: `127.0.0.1:${app.instance.appPort} (${runtimeOf(app.instance.command)})` });
      }
      const parts: string[] = [];
      if (s.ready.inbound !== null) parts.push(`mesh :${s.ready.inbound} (TLS)`);
      for (const [svc, port] of Object.entries(s.ready.upstreams)) parts.push(`${svc} → :${port}`);
      if (s.ready.httpProxy !== null) parts.push(`HTTP_PROXY :${s.ready.httpProxy}`);
      list.push({ name: s.child.name, role: 'sidecar', pid: s.child.pid, detail: parts.join(' · '), adminPort: s.ready.admin });
    }
    return list;
  };

  const started = start().catch((e: unknown) => {
    if (stopRequested) return;
    stopRequested = true;
    const msg = e instanceof WeftError ? `error ${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    err(`\nweft demo: could not start: ${msg}`);
    finish(1);
  });
  await Promise.race([started, done]);
  const code = await done;

  // Stop in order: no new traffic, no more scraping, sidecars drain, apps stop, reaper ends.
  await traffic?.stop(1000);
  monitor?.stop();
  await statusServer?.close();
  await supervisor.stopAll(DRAIN_TIMEOUT_MS + 3000, APP_GRACE_MS);
  const leftovers = supervisor.children.filter((c) => c.exit === undefined);
  if (lockTaken) await rm(lockFile, { force: true });
  for (const s of signals) process.removeListener(s, onSignal);
  if (leftovers.length > 0) err(`weft demo: could not stop ${leftovers.map((c) => `${c.name} (pid ${String(c.pid)})`).join(', ')}`);
  out(code === 0 ? `Stopped: all ${supervisor.children.length} processes ended.` : 'Demo stopped after a failure.');
  process.exit(code);
};

const edgesOf = (mesh: DemoMesh): EdgeInfo[] => [
  { from: mesh.ingress.service, to: mesh.ingress.to, via: 'upstream listener' },
  ...mesh.services.flatMap((s) =>
    s.calls.map((c): EdgeInfo => ({ from: s.name, to: c.service, via: c.via === 'upstream' ? 'upstream listener' : 'HTTP_PROXY' })),
  ),
];

const printBanner = (
  plan: MeshPlan,
  mesh: DemoMesh,
  sidecars: readonly RunningSidecar[],
  bookstoreUrl: string,
  statusUrl: string,
  status: StatusServer,
  askedPort: number,
  controlPlaneApi: string,
): void => {
  const pad = (s: string, n: number): string => s.padEnd(n);
  out('');
  out(`  ${pad('INSTANCE', 13)}${pad('APP', 26)}SIDECAR (weft proxy)`);
  for (const s of sidecars) {
    const inst = s.plan.instance;
    const appCell = inst === undefined ? '(none: client only)' : `${runtimeOf(inst.command)} :${inst.appPort}`;
    const parts = [`pid ${String(s.child.pid)}`];
    if (s.ready.inbound !== null) parts.push(`mesh :${s.ready.inbound}`);
    for (const [svc, port] of Object.entries(s.ready.upstreams)) parts.push(`${svc}→:${port}`);
    if (s.ready.httpProxy !== null) parts.push(`HTTP_PROXY :${s.ready.httpProxy}`);
    parts.push(`admin :${s.ready.admin}`);
    out(`  ${pad(s.plan.name, 13)}${pad(appCell, 26)}${parts.join('  ')}`);
  }
  out('');
  out("  mTLS between all sidecars: each one joined with a token and holds a workload certificate from the control plane's CA");
  for (const c of plan.canaries) {
    out(`  canary: ${c.service} ${c.backends.map((b) => `${b.percent}% ${Object.values(b.subset).join(',')}`).join(' / ')} (route ${c.route})`);
  }
  out(`  traffic: ${mesh.traffic.ratePerSecond} requests/s to ${mesh.ingress.to} through the ${mesh.ingress.service} sidecar`);
  if (status.fellBack) out(`  (port ${askedPort} is busy, so the status page took port ${status.port})`);
  out('');
  out(`  Control plane: ${controlPlaneApi} (weft get, weft apply, weft check, weft ca show; admin token in the demo's control-plane/ folder)`);
  out(`  Bookstore:    ${bookstoreUrl}`);
  out(`  Status page:  ${statusUrl}`);
};
