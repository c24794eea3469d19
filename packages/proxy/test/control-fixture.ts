/**
 * Real processes for the config stream tests: `weft control-plane` and `weft proxy
 * --control-plane`, started from sources, plus small HTTP helpers. Not a test file itself.
 */
import { createJoinToken, startWeft, type WeftProcess } from '@weft/testing';

/** The node:test context surface the fixtures need. */
export interface TestContext {
  after: (fn: () => Promise<unknown>) => void;
}

/** A started `weft` process and the JSON of its ready line. */
export interface Started<P> {
  readonly proc: WeftProcess;
  readonly ports: P;
}

/** Ports of `weft proxy ready {...}`. */
export interface ProxyPorts {
  readonly inbound: number | null;
  readonly upstreams: Record<string, number>;
  readonly httpProxy: number | null;
  readonly admin: number;
}

/** `weft control-plane` on `127.0.0.1:streamPort` (a port fixed in advance, so that a restart gets the same one). */
export const startControlPlaneProcess = async (
  t: TestContext,
  dataDir: string,
  streamPort: number,
  extra: string[] = [],
): Promise<Started<{ api: number; stream: number }> & { token: (service: string, namespace?: string) => Promise<string> }> => {
  const proc = startWeft(['control-plane', '--data-dir', dataDir, '--api-addr', '127.0.0.1:0', '--stream-addr', `127.0.0.1:${streamPort}`, ...extra], { t });
  const m = await proc.waitForLine(/^weft control-plane ready (\{.*\})$/, 30_000, { stream: 'stdout' });
  const ports = JSON.parse(m[1] ?? '{}') as { api: number; stream: number };
  return { proc, ports, token: (service, namespace) => createJoinToken({ apiPort: ports.api, dataDir }, service, namespace === undefined ? {} : { namespace }) };
};

/**
 * `weft proxy ... --control-plane 127.0.0.1:streamPort`, resolved once it printed its ready
 * line. With `token`, it joins a real control plane (TLS, workload certificate); without,
 * it speaks plaintext h2c (`http://`) to a control plane without a CA (the fake one).
 */
export const startStreamProxy = async (t: TestContext, streamPort: number, args: string[], token?: string): Promise<Started<ProxyPorts>> => {
  const cp = token === undefined ? `http://127.0.0.1:${streamPort}` : `127.0.0.1:${streamPort}`;
  const proc = startWeft(['proxy', '--control-plane', cp, ...args], { t, env: { WEFT_LOG_LEVEL: 'debug', ...(token === undefined ? {} : { WEFT_TOKEN: token }) } });
  const m = await proc.waitForLine(/^weft proxy ready (\{.*\})$/, 30_000, { stream: 'stdout' });
  return { proc, ports: JSON.parse(m[1] ?? '{}') as ProxyPorts };
};

/** What `/config` of a sidecar on the stream shows. */
export interface StreamConfig {
  version: string;
  lastRejection?: { version?: string; message: string };
  controlPlane: { connected: boolean; failures: number; version?: string; origin?: 'cache' | 'stream'; lastAckedVersion?: string; lastNack?: { version: string; error: string }; lastError?: { code: string } };
  snapshot: { endpoints: Record<string, unknown[]> };
}

/** `GET /config` of the proxy's admin port. */
export const configOf = async (p: Started<ProxyPorts>): Promise<StreamConfig> => {
  const res = await fetch(`http://127.0.0.1:${p.ports.admin}/config`);
  if (res.status !== 200) throw new Error(`/config answered ${res.status}`);
  return (await res.json()) as StreamConfig;
};

/** One GET; the status and `x-served-by`, or the error's message. */
export const get = async (port: number, path = '/hello'): Promise<{ status: number; servedBy: string } | { error: string }> => {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return { status: res.status, servedBy: res.headers.get('x-served-by') ?? '' };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
};

/** Polls `fn` every 50 ms until it returns true, up to `timeoutMs`. */
export const eventually = async (what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // Not yet.
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * One GET to a mesh port over mutual TLS, presenting the workload certificate a proxy
 * cached (`<cacheDir>/<workload>.identity.json`): what a peer proxy's request looks like.
 */
export const getMtls = async (port: number, identityFile: string, path = '/hello'): Promise<{ status: number; servedBy: string }> => {
  const { readFile } = await import('node:fs/promises');
  const { request } = await import('node:https');
  const id = JSON.parse(await readFile(identityFile, 'utf8')) as { keyPem: string; chainPem: string; trustBundle: string[] };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, key: id.keyPem, cert: id.chainPem, ca: id.trustBundle, checkServerIdentity: () => undefined, minVersion: 'TLSv1.3', timeout: 5000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, servedBy: String(res.headers['x-served-by'] ?? '') }));
      },
    );
    req.on('error', reject);
    req.end();
  });
};
