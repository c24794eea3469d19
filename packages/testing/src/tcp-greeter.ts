import { createServer, type Socket } from 'node:net';
import { listenOnFreePort } from './listen.js';

/** Options of {@link startTcpGreeter}. */
export interface TcpGreeterOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
}

/** A running greeter; see {@link startTcpGreeter}. */
export interface TcpGreeter {
  readonly port: number;
  /** `HOST:PORT`. */
  readonly address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Closes the listener and destroys every open connection. Bound, so `t.after(g.close)` works. */
  readonly close: () => Promise<void>;
}

/** What the greeter writes first, before the client has sent anything. */
export const TCP_GREETING = 'HELLO weft\r\n';

/** Longest line the greeter buffers; a longer one closes the connection instead of growing memory. */
const MAX_LINE = 64 * 1024;

/**
 * Starts a server-first TCP protocol on a free loopback port, the case that breaks proxies
 * which wait for the client's first bytes to detect a protocol: on connect it writes
 * {@link TCP_GREETING} at once; then each line the client sends (ended by `\n`, a trailing
 * `\r` dropped) comes back upper-cased and ended by `\r\n`; the line `QUIT` is answered
 * with `BYE\r\n` and the server closes the connection.
 */
export const startTcpGreeter = async (opts: TcpGreeterOptions = {}): Promise<TcpGreeter> => {
  const host = opts.host ?? '127.0.0.1';
  let connections = 0;
  const open = new Set<Socket>();

  const server = createServer((socket) => {
    connections++;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => {
      // Peer reset: 'close' follows and cleans up.
    });
    socket.setEncoding('utf8');
    socket.write(TCP_GREETING);
    let pending = '';
    let quitting = false;
    socket.on('data', (chunk: string) => {
      // After QUIT the client may still be sending; writing after end() would throw.
      if (quitting) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        if (line === 'QUIT') {
          quitting = true;
          socket.end('BYE\r\n');
          return;
        }
        socket.write(`${line.toUpperCase()}\r\n`);
      }
      if (pending.length > MAX_LINE) socket.destroy();
    });
  });

  const port = await listenOnFreePort(server, host);

  return {
    port,
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
};
