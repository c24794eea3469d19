import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleEchoRoute } from './echo-routes.js';
import { listenOnFreePort, urlOf } from './listen.js';

/** Options of {@link startHttp1Echo}. */
export interface Http1EchoOptions {
  /** Sent as `x-served-by` on every response. Default `http1-echo`. */
  name?: string;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /**
   * How long an idle keep-alive connection stays open. Default 30 s: longer than any test,
   * so that a client pool never races the server closing an idle socket (unless a test
   * sets it low on purpose to exercise exactly that race).
   */
  keepAliveTimeoutMs?: number;
}

/** A running HTTP/1.1 echo server; see {@link startHttp1Echo}. */
export interface Http1Echo {
  readonly port: number;
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly name: string;
  /** Requests received so far (including ones answered with 100 Continue first). */
  readonly requests: number;
  /** TCP connections accepted so far; with keep-alive, fewer than `requests`. */
  readonly connections: number;
  /** Closes the listener and every open connection. Bound, so `t.after(echo.close)` works. */
  readonly close: () => Promise<void>;
}

/**
 * Starts a node:http server on a free loopback port that answers the echo routes
 * ({@link handleEchoRoute}: `/echo`, `/bytes/N`, `/status/CODE`, `/slow/MS`, `/reset`,
 * `/hello`), with keep-alive, `x-served-by: <name>` on every response, and
 * `Expect: 100-continue` answered with `100 Continue` before the body is read (except on
 * `/status/CODE`, which answers its final status at once, as a server refusing the body
 * would).
 */
export const startHttp1Echo = async (opts: Http1EchoOptions = {}): Promise<Http1Echo> => {
  const name = opts.name ?? 'http1-echo';
  const host = opts.host ?? '127.0.0.1';
  let requests = 0;
  let connections = 0;

  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    requests++;
    const reset = (rst: boolean): void => {
      if (rst) req.socket.resetAndDestroy();
      else req.socket.destroy();
    };
    handleEchoRoute(req, res, { name, reset }).catch(() => {
      // The client went away mid-request (the body stream errored): nothing left to answer.
      res.destroy();
    });
  };

  const server = createServer({ keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000 }, serve);
  server.on('connection', (_socket: Socket) => {
    connections++;
  });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!(req.url ?? '').startsWith('/status/')) res.writeContinue();
    serve(req, res);
  });

  const port = await listenOnFreePort(server, host);

  return {
    port,
    url: urlOf('http', host, port),
    name,
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
