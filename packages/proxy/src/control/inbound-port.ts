import { createServer } from 'node:net';

/**
 * The inbound port a proxy registers with: `port` itself, or for 0 a port that was free on
 * `host` a moment ago. A proxy on the config stream must say its port in its hello before
 * its listeners exist (they start with the first snapshot), so it cannot let the kernel
 * pick when binding; another process could take the port in between, and then binding
 * fails loudly (EADDRINUSE) rather than registering a wrong endpoint.
 */
export const resolveInboundPort = (host: string, port: number): Promise<number> =>
  port !== 0
    ? Promise.resolve(port)
    : new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.once('error', reject);
        server.listen({ host, port: 0, exclusive: true }, () => {
          const a = server.address();
          const picked = typeof a === 'object' && a !== null ? a.port : 0;
          server.close(() => (picked > 0 ? resolve(picked) : reject(new Error(`no free port on ${host}`))));
        });
      });
