/**
 * A fake control plane for the proxy's stream tests: an h2c server at CONFIG_STREAM_PATH
 * that records what proxies send and sends what a test says, including garbage. Not a test
 * file itself.
 */
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { CONFIG_STREAM_PATH } from '@weft/api';

/** One proxy stream on the fake control plane. */
export interface FakeStream {
  readonly stream: ServerHttp2Stream;
  /** Messages received, parsed. */
  readonly received: Record<string, unknown>[];
  /** Writes a message (an object as a JSON line, a string as is). */
  send(message: object | string): void;
}

/** A running fake control plane. */
export interface FakeControlPlane {
  readonly port: number;
  /** Every stream opened so far, in order. */
  readonly streams: FakeStream[];
  /** Resolves with the first received message that `pred` accepts (on any stream). */
  waitFor(pred: (m: Record<string, unknown>, s: FakeStream) => boolean, timeoutMs?: number): Promise<{ message: Record<string, unknown>; stream: FakeStream }>;
  /** Called for each hello; may answer on the stream. */
  onHello: ((s: FakeStream, hello: Record<string, unknown>) => void) | undefined;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** Starts a fake control plane on `port` (0 picks one). */
export const startFakeControlPlane = async (port = 0): Promise<FakeControlPlane> => {
  const server: Http2Server = createServer();
  const streams: FakeStream[] = [];
  const waiters = new Set<() => void>();
  const sessions = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => undefined);
  });
  const fake: FakeControlPlane = {
    port: 0,
    streams,
    onHello: undefined,
    waitFor: (pred, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          for (const s of streams) {
            const m = s.received.find((x) => pred(x, s));
            if (m !== undefined) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve({ message: m, stream: s });
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake control plane: no expected message within ${timeoutMs} ms; got ${JSON.stringify(streams.map((s) => s.received)).slice(0, 800)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] !== CONFIG_STREAM_PATH) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/x-ndjson' });
    const fs: FakeStream = {
      stream,
      received: [],
      send: (m) => {
        if (!stream.destroyed && !stream.writableEnded) stream.write(typeof m === 'string' ? m : `${JSON.stringify(m)}\n`);
      },
    };
    streams.push(fs);
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        const m = JSON.parse(buf.slice(0, i)) as Record<string, unknown>;
        buf = buf.slice(i + 1);
        fs.received.push(m);
        if (m['type'] === 'hello') fake.onHello?.(fs, m);
      }
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  const address = server.address();
  (fake as { port: number }).port = typeof address === 'object' && address !== null ? address.port : port;
  return fake;
};

/** A minimal valid snapshot with versions `r/e` and, optionally, services and endpoints. */
export const fakeSnapshot = (r: string, e = 'e', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'weft.dev/v1alpha1',
  kind: 'ProxySnapshot',
  routesVersion: r,
  endpointsVersion: e,
  ...extra,
});
