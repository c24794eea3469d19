import {
  constants,
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import { handleEchoRoute } from './echo-routes.js';
import { listenOnFreePort, urlOf } from './listen.js';

/** Options of {@link startHttp2Echo}. */
export interface Http2EchoOptions {
  /** Sent as `x-served-by` on every response. Default `http2-echo`. */
  name?: string;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
}

/** A running h2c echo server; see {@link startHttp2Echo}. */
export interface Http2Echo {
  readonly port: number;
  /** `http://HOST:PORT` (h2c: connect with prior knowledge, e.g. `http2.connect(url)`). */
  readonly url: string;
  readonly name: string;
  /** Streams (requests) received so far. */
  readonly requests: number;
  /** HTTP/2 sessions (connections) accepted so far; multiplexing keeps this below `requests`. */
  readonly sessions: number;
  /** Closes the listener and destroys every open session. Bound, so `t.after(echo.close)` works. */
  readonly close: () => Promise<void>;
}

/**
 * Starts a cleartext HTTP/2 server (prior knowledge, no TLS, no h1 upgrade) on a free
 * loopback port that answers the same echo routes as {@link startHttp1Echo} (`/echo`,
 * `/bytes/N`, `/status/CODE`, `/slow/MS`, `/reset` which resets the stream with
 * INTERNAL_ERROR, `/hello`), each with `x-served-by: <name>`.
 */
export const startHttp2Echo = async (opts: Http2EchoOptions = {}): Promise<Http2Echo> => {
  const name = opts.name ?? 'http2-echo';
  const host = opts.host ?? '127.0.0.1';
  let requests = 0;
  let sessions = 0;
  const open = new Set<Http2Session>();

  const server = createServer((req: Http2ServerRequest, res: Http2ServerResponse) => {
    requests++;
    const reset = (): void => {
      res.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    };
    handleEchoRoute(req, res, { name, reset }).catch(() => {
      // The client reset the stream mid-request: nothing left to answer.
      if (!res.stream.destroyed) res.stream.close(constants.NGHTTP2_CANCEL);
    });
  });
  server.on('session', (session: Http2Session) => {
    sessions++;
    open.add(session);
    session.once('close', () => open.delete(session));
  });
  // Stray errors on a session (a client that vanished) must not crash the test process.
  server.on('sessionError', () => {});

  const port = await listenOnFreePort(server, host);

  return {
    port,
    url: urlOf('http', host, port),
    name,
    get requests() {
      return requests;
    },
    get sessions() {
      return sessions;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
};
