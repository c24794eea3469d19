import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const listenOn = (server: Server, host: string, port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.removeListener('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr !== null ? addr.port : port);
    });
  });

const close = (server: Server): Promise<void> => new Promise((r) => server.close(() => r()));

/** The lowest port of the kernel's ephemeral range (what port 0 and outgoing connections use). */
const ephemeralLow = (): number => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768; // Linux's default; elsewhere a guess that only affects which ports are tried
  }
};

/**
 * `count` distinct ports that were free on `host` a moment ago, for listeners that must be
 * known before they exist (every mesh port is in the snapshots before any sidecar starts).
 * All are held open at once, read, then released. They are taken just below the kernel's
 * ephemeral range, where neither port-0 listeners nor outgoing connections of other
 * programs land in the seconds before the demo binds them; port 0 fills in if that fails.
 */
export const freePorts = async (count: number, host = '127.0.0.1'): Promise<number[]> => {
  const servers: Server[] = [];
  const ports: number[] = [];
  const high = ephemeralLow() - 1;
  const low = Math.max(1024, high - 12_000);
  try {
    for (let attempt = 0; ports.length < count && attempt < count * 20 && high > low; attempt++) {
      const candidate = low + Math.floor(Math.random() * (high - low + 1));
      if (ports.includes(candidate)) continue;
      const server = createServer();
      try {
        ports.push(await listenOn(server, host, candidate));
        servers.push(server);
      } catch {
        // taken: try another
      }
    }
    while (ports.length < count) {
      const server = createServer();
      ports.push(await listenOn(server, host, 0));
      servers.push(server);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => (s.listening ? close(s) : Promise.resolve())));
  }
};

/** Listens `server` on `port`, or on a free port when `port` is taken; resolves with the port bound. */
export const listenOrAny = async (server: Server, host: string, port: number): Promise<{ port: number; fellBack: boolean }> => {
  try {
    return { port: await listenOn(server, host, port), fellBack: false };
  } catch (err) {
    if (port !== 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') return { port: await listenOn(server, host, 0), fellBack: true };
    throw err;
  }
};
