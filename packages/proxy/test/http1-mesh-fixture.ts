/**
 * Shared setup of the proxy integration tests (http1-*, tcp-ws, lifecycle): real `weft proxy`
 * processes started from sources, their snapshot files, and small raw-socket and curl
 * clients. Not a test file itself (no `.test.ts`), so the runner does not pick it up.
 *
 * The two-proxy topology: client -> outbound proxy (explicit `--upstream svc:PORT`
 * listener and `--http-proxy-port`) -> inbound proxy (`--port`, `--app-port`) -> app.
 */
import { execFile } from 'node:child_process';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { createTestPki, createTmpDir, freePort, startWeft, type TestPki, type TmpDir, type WeftProcess } from '@weft/testing';

/** The node:test context surface the fixtures need. */
export interface TestContext {
  after: (fn: () => Promise<unknown>) => void;
}

/**
 * A TestContext for a `describe` whose `before` starts what its tests share: what is
 * registered with `after` runs, in reverse order, when the suite's `after` calls `cleanup`.
 */
export const suiteContext = (): TestContext & { cleanup: () => Promise<void> } => {
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

/**
 * The sum of the samples of metric `name` whose labels include `labels`, in Prometheus
 * text; undefined when no series matches. Series are split by more labels than a test
 * names (the caller's identity, for one), so a test reads the total.
 */
export const metric = (text: string, name: string, labels: Record<string, string>): number | undefined => {
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return lines.length === 0 ? undefined : lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
};

/** The ports `weft proxy ready {...}` reports. */
export interface ReadyPorts {
  readonly inbound: number | undefined;
  readonly upstreams: Readonly<Record<string, number>>;
  readonly httpProxy: number | undefined;
  readonly admin: number;
}

/** A running `weft proxy` process with the ports it printed and the snapshot file it follows. */
export interface ProxyProcess {
  readonly proc: WeftProcess;
  readonly ports: ReadyPorts;
  readonly configFile: string;
  /** Rewrites the snapshot file atomically (write to a temp file, then rename). */
  writeConfig(snapshot: object): Promise<void>;
  /** `http://127.0.0.1:ADMIN` */
  readonly adminUrl: string;
}

/** Limits as a snapshot takes them (all optional). */
export type LimitsInput = Partial<{
  maxRequestHeadersBytes: number;
  maxRequestBodyBytes: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  detectTimeoutMs: number;
  responseTimeoutMs: number;
  connectTimeoutMs: number;
  maxConnectionsPerEndpoint: number;
  maxPendingRequestsPerEndpoint: number;
}>;

/** TLS between proxies: the static transport of a snapshot, from the test PKI. */
export type TransportInput = { tls: { mode: 'disabled' } } | { tls: { mode: 'static'; certFile: string; keyFile: string; caFile: string } };

export const PLAINTEXT: TransportInput = { tls: { mode: 'disabled' } };

/** A static TLS transport for proxy `name` of `pki`. */
export const tlsTransport = (pki: TestPki, name: string): TransportInput => {
  const leaf = pki.leaf(name);
  return { tls: { mode: 'static', certFile: leaf.cert, keyFile: leaf.key, caFile: pki.ca.cert } };
};

/** One test PKI per test file is enough: it costs a few openssl runs. */
export const makePki = async (t: TestContext): Promise<TestPki> => {
  const dir = await createTmpDir({ prefix: 'pki', t: t as { after: (fn: () => Promise<void>) => void } });
  return createTestPki(dir.path, ['outbound', 'inbound', 'inbound-b']);
};

export interface ServiceInput {
  name: string;
  namespace?: string;
  ports?: { port: number; protocol?: 'http' | 'http2' | 'grpc' | 'tcp'; name?: string }[];
  routes?: unknown[];
}

export interface EndpointInput {
  address: string;
  port: number;
  labels?: Record<string, string>;
  weight?: number;
}

/** A snapshot document as a test writes it. */
export const snapshot = (o: {
  routesVersion?: string;
  endpointsVersion?: string;
  services?: ServiceInput[];
  endpoints?: Record<string, EndpointInput[]>;
  transport?: TransportInput;
  limits?: LimitsInput;
}): object => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'ProxySnapshot',
  routesVersion: o.routesVersion ?? 'r1',
  endpointsVersion: o.endpointsVersion ?? 'e1',
  services: o.services ?? [],
  endpoints: o.endpoints ?? {},
  transport: o.transport ?? PLAINTEXT,
  limits: o.limits ?? {},
});

let fileCounter = 0;

/**
 * Starts `weft proxy --config FILE ...args` with `config` written to FILE in `dir`, waits
 * for the ready line and returns its ports. The process is killed when the test ends.
 */
export const startProxy = async (
  t: TestContext,
  dir: TmpDir,
  config: object | string,
  args: readonly string[],
): Promise<ProxyProcess> => {
  const configFile = dir.join(`snapshot-${++fileCounter}.json`);
  await writeFile(configFile, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  const proc = startWeft(['proxy', '--config', configFile, ...args], { t });
  const m = await proc.waitForLine(/^weft proxy ready (\{.*\})$/, 20_000, { stream: 'stdout' });
  const ports = JSON.parse(m[1] as string) as ReadyPorts;
  let tmp = 0;
  return {
    proc,
    ports,
    configFile,
    adminUrl: `http://127.0.0.1:${ports.admin}`,
    writeConfig: async (snap) => {
      const next = `${configFile}.${++tmp}.tmp`;
      await writeFile(next, JSON.stringify(snap, null, 2));
      await rename(next, configFile);
    },
  };
};

/**
 * The port of the explicit upstream listener (`--upstream SERVICE:0`) a started proxy reported
 * for `service`. Throws, naming what it did report, when there is none: a test that went on
 * with a made-up port would fail later, connecting to the wrong place.
 */
export const upstreamPortOf = (proxy: { readonly ports: { readonly upstreams: Readonly<Record<string, number>> } }, service: string): number => {
  const port = proxy.ports.upstreams[service];
  if (port === undefined) throw new Error(`no upstream listener for ${service}: ${JSON.stringify(proxy.ports)}`);
  return port;
};

/** What {@link startMesh} brings up. */
export interface Mesh {
  readonly dir: TmpDir;
  readonly inbound: ProxyProcess;
  readonly outbound: ProxyProcess;
  /** The outbound explicit listener for `svc`. */
  readonly upstreamPort: number;
  /** The outbound HTTP proxy listener. */
  readonly httpProxyPort: number;
  /** Builds the outbound snapshot for the given inbound endpoints (used by config swaps). */
  outboundSnapshot(endpoints: EndpointInput[], versions?: { routesVersion?: string; endpointsVersion?: string }): object;
}

export interface MeshOptions {
  /** The application port the inbound proxy fronts. */
  appPort: number;
  /** `--app-protocol` of the inbound proxy. Default http. */
  appProtocol?: 'http' | 'http2' | 'grpc' | 'tcp';
  /** TLS between the proxies; plaintext when absent. */
  pki?: TestPki;
  /** The service's declared ports in the outbound snapshot. Default `[{port: 9080, protocol: http}]`. */
  servicePorts?: ServiceInput['ports'];
  /** Limits of both proxies' snapshots. */
  limits?: LimitsInput;
  /** Limits of the inbound proxy only (overrides `limits`). */
  inboundLimits?: LimitsInput;
  /** Extra flags of each proxy. */
  outboundArgs?: readonly string[];
  inboundArgs?: readonly string[];
  /** The service name. Default `svc`. */
  service?: string;
  /** What the inbound mesh port accepts with TLS on: default STRICT (mTLS only). */
  mtlsMode?: 'STRICT' | 'PERMISSIVE';
}

export const SERVICE = 'svc';

/**
 * client -> outbound (explicit listener `svc` and HTTP proxy listener) -> inbound -> app.
 */
export const startMesh = async (t: TestContext, o: MeshOptions): Promise<Mesh> => {
  const dir = await createTmpDir({ prefix: 'mesh', t: t as { after: (fn: () => Promise<void>) => void } });
  const service = o.service ?? SERVICE;
  const inboundTransport = o.pki === undefined ? PLAINTEXT : { ...tlsTransport(o.pki, 'inbound'), mtlsMode: o.mtlsMode ?? 'STRICT' };
  const outboundTransport = o.pki === undefined ? PLAINTEXT : tlsTransport(o.pki, 'outbound');
  // The inbound port is picked up front so that both proxies start at once.
  const inboundPort = await freePort();
  const inboundStarted = startProxy(
    t,
    dir,
    snapshot({ transport: inboundTransport, limits: o.inboundLimits ?? o.limits ?? {} }),
    [
      '--service',
      service,
      '--port',
      String(inboundPort),
      '--app-port',
      String(o.appPort),
      '--app-protocol',
      o.appProtocol ?? 'http',
      ...(o.inboundArgs ?? []),
    ],
  );
  const servicePorts = o.servicePorts ?? [{ port: 9080, protocol: 'http' as const }];
  const outboundSnapshot = (endpoints: EndpointInput[], versions: { routesVersion?: string; endpointsVersion?: string } = {}): object =>
    snapshot({
      ...versions,
      services: [{ name: service, ports: servicePorts }],
      endpoints: { [`${service}.default`]: endpoints },
      transport: outboundTransport,
      limits: o.limits ?? {},
    });
  const [inbound, outbound] = await Promise.all([
    inboundStarted,
    startProxy(t, dir, outboundSnapshot([{ address: '127.0.0.1', port: inboundPort }]), [
      '--service',
      'client',
      '--upstream',
      `${service}:0`,
      '--http-proxy-port',
      '0',
      ...(o.outboundArgs ?? []),
    ]),
  ]);
  const upstreamPort = upstreamPortOf(outbound, service);
  if (outbound.ports.httpProxy === undefined) {
    throw new Error(`outbound proxy did not report its listeners: ${JSON.stringify(outbound.ports)}`);
  }
  return { dir, inbound, outbound, upstreamPort, httpProxyPort: outbound.ports.httpProxy, outboundSnapshot };
};

/** Result of a command run to completion. */
export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs curl (or any command) with a time bound; never rejects on a non-zero exit. */
export const run = (cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: Buffer } = {}): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: opts.timeoutMs ?? 25_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err !== null && typeof (err as { code?: unknown }).code !== 'number' && !(err as { killed?: boolean }).killed) {
          reject(err);
          return;
        }
        resolve({
          code: err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null,
          stdout,
          stderr: stderr.toString('utf8'),
        });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });

/** Runs curl with `-sS` and the given args. */
export const curl = (args: readonly string[], opts: { timeoutMs?: number; input?: Buffer } = {}): Promise<RunResult> =>
  run('curl', ['-sS', '--max-time', '20', ...args], opts);

/** A parsed HTTP/1.1 response read off a raw socket. */
export interface RawResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Parses as many complete responses as `data` holds (content-length or chunked bodies, or
 * no body for 1xx/204/304 and when `noBody` says so). Returns them and the unparsed rest.
 */
export const parseResponses = (data: Buffer, noBody: (index: number) => boolean = () => false): { responses: RawResponse[]; rest: Buffer } => {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = data.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number((lines[0] ?? '').split(' ')[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
    let bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      at = bodyStart;
      continue; // interim responses are skipped
    }
    let body: Buffer;
    if (noBody(responses.length) || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (data.length < bodyStart + n) break;
      body = data.subarray(bodyStart, bodyStart + n);
      bodyStart += n;
    } else if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
      const parts: Buffer[] = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        const le = data.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(data.subarray(p, le).toString('latin1'), 16);
        if (size === 0) {
          const te = data.indexOf('\r\n\r\n', le);
          if (te < 0 && data.subarray(le, le + 4).toString() !== '\r\n\r\n') break;
          p = data.subarray(le, le + 4).toString() === '\r\n\r\n' ? le + 4 : te + 4;
          complete = true;
          break;
        }
        if (data.length < le + 2 + size + 2) break;
        parts.push(data.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!complete) break;
      body = Buffer.concat(parts);
      bodyStart = p;
    } else {
      // close-delimited: everything that follows
      body = data.subarray(bodyStart);
      bodyStart = data.length;
    }
    responses.push({ status, headers, body });
    at = bodyStart;
  }
  return { responses, rest: data.subarray(at) };
};

/** A raw TCP client that records everything it receives and when the peer closed. */
export interface RawClient {
  readonly socket: Socket;
  /** All bytes received so far. */
  received(): Buffer;
  /** Resolves when the server closed (FIN or reset), with what was received. */
  readonly closed: Promise<{ data: Buffer; error: Error | undefined }>;
  write(data: string | Buffer): void;
  /** Waits until `n` complete responses were received (or the socket closed), up to `timeoutMs`. */
  responses(n: number, timeoutMs?: number, noBody?: (i: number) => boolean): Promise<RawResponse[]>;
  destroy(): void;
}

export const rawClient = (port: number, t?: TestContext): Promise<RawClient> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let error: Error | undefined;
    let isClosed = false;
    const waiters = new Set<() => void>();
    const notify = (): void => {
      for (const w of waiters) w();
    };
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      notify();
    });
    socket.on('error', (e) => {
      error = e;
    });
    const closed = new Promise<{ data: Buffer; error: Error | undefined }>((r) =>
      socket.once('close', () => {
        isClosed = true;
        notify();
        r({ data: Buffer.concat(chunks), error });
      }),
    );
    t?.after(async () => {
      socket.destroy();
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        socket,
        received: () => Buffer.concat(chunks),
        closed,
        write: (d) => {
          socket.write(d);
        },
        responses: (n, timeoutMs = 10_000, noBody) =>
          new Promise((res, rej) => {
            const check = (): void => {
              const parsed = parseResponses(Buffer.concat(chunks), noBody).responses;
              if (parsed.length >= n || isClosed) {
                clearTimeout(timer);
                waiters.delete(check);
                if (parsed.length >= n) res(parsed);
                else rej(new Error(`socket closed after ${parsed.length} of ${n} responses; received:\n${Buffer.concat(chunks).toString('latin1').slice(0, 2000)}`));
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              rej(new Error(`timed out waiting for ${n} responses; received:\n${Buffer.concat(chunks).toString('latin1').slice(0, 2000)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });

/** Sends `request` on a fresh connection and returns the first response (and closes). */
export const rawRequest = async (port: number, request: string | Buffer, opts: { noBody?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> => {
  const c = await rawClient(port);
  try {
    c.write(request);
    const [r] = await c.responses(1, opts.timeoutMs ?? 10_000, () => opts.noBody === true);
    return r as RawResponse;
  } finally {
    c.destroy();
  }
};

/** Peak resident set (VmHWM) and current RSS (VmRSS) of a process, in bytes, from /proc. */
export const memoryOf = async (pid: number): Promise<{ hwm: number; rss: number }> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
};

/** Fetches an admin path; returns status and text. */
export const adminGet = async (p: ProxyProcess, path: string): Promise<{ status: number; text: string }> => {
  const res = await fetch(`${p.adminUrl}${path}`);
  return { status: res.status, text: await res.text() };
};

/** Polls `fn` every 50 ms until it returns true, up to `timeoutMs`; throws with `what` otherwise. */
export const eventually = async (what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Waits until the proxy's admin /config reports `version`. */
export const waitForVersion = (p: ProxyProcess, version: string, timeoutMs = 10_000): Promise<void> =>
  eventually(
    `config version ${version}`,
    async () => {
      const r = await adminGet(p, '/config');
      return r.status === 200 && (JSON.parse(r.text) as { version: string }).version === version;
    },
    timeoutMs,
  );
