import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenOnFreePort, urlOf } from './listen.js';

/** Options of {@link startWsEcho}. */
export interface WsEchoOptions {
  /** Sent as `x-served-by` on the upgrade response and on plain HTTP answers. Default `ws-echo`. */
  name?: string;
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
}

/** A running WebSocket echo server; see {@link startWsEcho}. */
export interface WsEcho {
  readonly port: number;
  /** `ws://HOST:PORT` (any path is accepted). */
  readonly url: string;
  readonly name: string;
  /** WebSocket connections accepted so far. */
  readonly connections: number;
  /** Closes every WebSocket and the listener. Bound, so `t.after(ws.close)` works. */
  readonly close: () => Promise<void>;
}

/**
 * Starts a node:http server on a free loopback port that upgrades any path to a
 * WebSocket (package `ws`) and sends every message back as it came, text as text and
 * binary as binary. The upgrade response carries `x-served-by: <name>`. A plain HTTP
 * request (no upgrade) gets `426 Upgrade Required`, so a proxy test can tell an upgrade
 * that was not forwarded from one that failed.
 */
export const startWsEcho = async (opts: WsEchoOptions = {}): Promise<WsEcho> => {
  const name = opts.name ?? 'ws-echo';
  const host = opts.host ?? '127.0.0.1';
  let connections = 0;

  const server = createServer((_req, res) => {
    res.writeHead(426, { 'x-served-by': name, connection: 'close', upgrade: 'websocket', 'content-type': 'text/plain' });
    res.end('websocket upgrade required\n');
  });
  const wss = new WebSocketServer({ server });
  wss.on('headers', (headers: string[], _req: IncomingMessage) => {
    headers.push(`x-served-by: ${name}`);
  });
  wss.on('connection', (socket: WebSocket) => {
    connections++;
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    // A peer that vanishes produces an error; the socket closes by itself afterwards.
    socket.on('error', () => {});
  });

  const port = await listenOnFreePort(server, host);

  return {
    port,
    url: urlOf('ws', host, port),
    name,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
