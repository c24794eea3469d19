import type { Server } from 'node:net';

/**
 * Binds `server` (net, http, https or http2) to port 0 on `host` and resolves with the port
 * the kernel chose; rejects if binding fails. Internal to the fixtures.
 */
export const listenOnFreePort = (server: Server, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (typeof address === 'object' && address !== null) resolve(address.port);
      else reject(new Error(`unexpected server address ${String(address)}`));
    });
  });

/** `http://HOST:PORT` (or `ws://`...), with IPv6 hosts in brackets. */
export const urlOf = (scheme: string, host: string, port: number): string =>
  `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
