/**
 * Real processes for the config stream tests: `weft control-plane` and `weft proxy
 * --control-plane`, started from sources, plus small HTTP helpers. Not a test file itself.
 */
import { startWeft, type WeftProcess } from '@weft/testing';

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
export const startControlPlaneProcess = async (t: TestContext, dataDir: string, streamPort: number, extra: string[] = []): Promise<Started<{ api: number; stream: number }>> => {
  const proc = startWeft(['control-plane', '--data-dir', dataDir, '--api-addr', '127.0.0.1:0', '--stream-addr', `127.0.0.1:${streamPort}`, ...extra], { t });
  const m = await proc.waitForLine(/^weft control-plane ready (\{.*\})$/, 30_000, { stream: 'stdout' });
  return { proc, ports: JSON.parse(m[1] ?? '{}') as { api: number; stream: number } };
};

/** `weft proxy ... --control-plane 127.0.0.1:streamPort`, resolved once it printed its ready line. */
export const startStreamProxy = async (t: TestContext, streamPort: number, args: string[]): Promise<Started<ProxyPorts>> => {
  const proc = startWeft(['proxy', '--control-plane', `127.0.0.1:${streamPort}`, ...args], { t, env: { WEFT_LOG_LEVEL: 'debug' } });
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
