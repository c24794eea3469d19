/**
 * Real Node HTTP/1.1 backends on loopback for the balancing tests: each answers with its
 * own name (header `x-backend` and body), counts the requests it served and the health
 * checks it got, and can be switched to fail (`status`), to fail its health check
 * (`healthStatus`) or to hold requests until released (`stall`). Not a test file itself.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { TestContext } from './http1-mesh-fixture.js';

/** One backend and the switches a test flips. */
export interface Backend {
  readonly name: string;
  readonly port: number;
  /** Requests served other than health checks. */
  hits: number;
  /** `GET /healthz` requests seen, and the host header of the last one. */
  healthChecks: number;
  lastHealthHost: string | undefined;
  /** Status of every request other than a health check. */
  status: number;
  /** Status of `GET /healthz`. */
  healthStatus: number;
  /** While true, requests other than health checks are held (see {@link held}) instead of answered. */
  stall: boolean;
  /** Responses of held requests, in arrival order. */
  readonly held: ServerResponse[];
  /** Answers every held request with `status`. */
  release(): void;
}

const answer = (b: Backend, res: ServerResponse): void => {
  res.writeHead(b.status, { 'x-backend': b.name, 'content-type': 'text/plain' });
  res.end(b.name);
};

const startOne = async (t: TestContext, name: string): Promise<Backend> => {
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    if (req.url === '/healthz') {
      b.healthChecks++;
      b.lastHealthHost = (req.headers as IncomingHttpHeaders).host;
      res.writeHead(b.healthStatus, { 'content-type': 'text/plain' });
      res.end('health');
      return;
    }
    b.hits++;
    if (b.stall) held.push(res);
    else answer(b, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  // Made once listening: nothing can reach the server before its port is known.
  const b: Backend = {
    name,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    hits: 0,
    healthChecks: 0,
    lastHealthHost: undefined,
    status: 200,
    healthStatus: 200,
    stall: false,
    held,
    release: () => {
      for (const res of held.splice(0)) answer(b, res);
    },
  };
  return b;
};

/** Starts one backend per name, in order. */
export const startBackends = (t: TestContext, names: readonly string[]): Promise<Backend[]> => Promise.all(names.map((n) => startOne(t, n)));

/** Hits per backend name, for assertion messages. */
export const hitsOf = (backends: readonly Backend[]): Record<string, number> => Object.fromEntries(backends.map((b) => [b.name, b.hits]));
