import { createServer } from 'node:net';

/**
 * A TCP port that was free on `host` a moment ago: listens on port 0, reads the port the
 * kernel chose, and closes. Another process may take the port before the caller binds it,
 * so prefer passing port 0 to the code under test and reading the bound port back; use this
 * only where a port must be known before the listener exists (e.g. a CLI flag).
 */
export const freePort = (host = '127.0.0.1'): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
