/**
 * A scripted HTTP/1.1 backend for the destination policy tests: each request is read whole,
 * counted by its `x-id` header and answered as a script says — a status at once, never
 * (a stall, until the proxy gives up and closes the connection), or once a gate opens.
 * Answers carry the SHA-256 of the request body, so that a test can tell that a retried
 * attempt carried the same body as the first. Not a test file itself.
 */
import { readBodyDigest } from '@weft/testing';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { TestContext } from './http1-mesh-fixture.js';

/** One request as the script sees it. */
export interface SeenRequest {
  readonly id: string;
  readonly path: string;
  readonly method: string;
  readonly headers: IncomingMessage['headers'];
  /** SHA-256 of the body, hex. */
  readonly bodyHash: string;
  readonly bodyBytes: number;
  /** 1 for the first request with this id, 2 for the second, ... */
  readonly nth: number;
}

/** What to do with a request: answer with a status now, never answer, or answer 200 once the gate opens. */
export type Action = { readonly status: number } | 'stall' | 'hold';

export interface FlakyBackend {
  readonly port: number;
  /** Requests seen with this id (each attempt the proxy sent). */
  seen(id: string): readonly SeenRequest[];
  /** Requests seen in all. */
  total(): number;
  /** Opens the gate: held requests are answered 200, and later ones at once. */
  release(): void;
}

/** `x-id` of a request; requests without one share the id `-`. */
const idOf = (req: IncomingMessage): string => {
  const v = req.headers['x-id'];
  return typeof v === 'string' ? v : '-';
};

/** Starts a backend on loopback that runs `script` for each request; closed when the test ends. */
export const startFlakyBackend = async (t: TestContext, script: (r: SeenRequest) => Action): Promise<FlakyBackend> => {
  const byId = new Map<string, SeenRequest[]>();
  let total = 0;
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const server: Server = createServer((req, res) => {
    void readBodyDigest(req).then((body) => {
      const id = idOf(req);
      const list = byId.get(id) ?? [];
      const seen: SeenRequest = { id, path: req.url ?? '', method: req.method ?? '', headers: req.headers, bodyHash: body.sha256, bodyBytes: body.bytes, nth: list.length + 1 };
      list.push(seen);
      byId.set(id, list);
      total++;
      const answer = (status: number): void => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'text/plain', 'x-body-sha256': seen.bodyHash, 'x-attempt': String(seen.nth) });
        res.end(`${status} ${id} #${seen.nth}`);
      };
      const action = script(seen);
      if (action === 'stall') return;
      if (action === 'hold') {
        void gate.then(() => answer(200));
        return;
      }
      answer(action.status);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    open();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    seen: (id) => byId.get(id) ?? [],
    total: () => total,
    release: () => open(),
  };
};
