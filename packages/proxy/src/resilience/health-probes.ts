import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { HealthProbe } from './health-checker.js';

/** What a probe needs of an endpoint. */
export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
}

/** Options of {@link httpProbe}. */
export interface HttpProbeOptions {
  /** Path requested with GET (default `/`). */
  readonly path?: string;
  /** Statuses that pass; default 200 to 399. */
  readonly expectedStatuses?: readonly number[];
  /** `Host` header (the Service's name); default the endpoint's address and port. */
  readonly authority?: string;
  /** TLS settings (client certificate, trust, ALPN `http/1.1`) when the endpoint speaks TLS. */
  readonly tls?: ConnectionOptions;
}

const hostOf = (t: ProbeTarget): string => (t.address.includes(':') ? `[${t.address}]:${t.port}` : `${t.address}:${t.port}`);

/**
 * An HTTP health check: `GET path` on a connection of its own (no pooling, so a check
 * measures the endpoint and not a kept-alive socket), passed when the status is expected.
 * The body is read and dropped, up to the end, so that the server sees a normal exchange.
 */
export const httpProbe = <E extends ProbeTarget>(options: HttpProbeOptions = {}): HealthProbe<E> => {
  const expected = options.expectedStatuses === undefined ? undefined : new Set(options.expectedStatuses);
  const passes = (status: number): boolean => (expected === undefined ? status >= 200 && status <= 399 : expected.has(status));
  return (endpoint, signal) =>
    new Promise<boolean>((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const send = options.tls === undefined ? httpRequest : httpsRequest;
      const req = send({
        host: endpoint.address,
        port: endpoint.port,
        method: 'GET',
        path: options.path ?? '/',
        agent: false,
        signal,
        headers: { host: options.authority ?? hostOf(endpoint), 'user-agent': 'weft-health-check', connection: 'close' },
        ...(options.tls ?? {}),
      });
      req.once('response', (res) => {
        const ok = passes(res.statusCode ?? 0);
        res.resume();
        res.once('end', () => resolve(ok));
        res.once('error', () => resolve(false));
        res.once('close', () => resolve(ok && res.complete));
      });
      req.once('error', () => resolve(false));
      req.end();
    });
};

/** Options of {@link tcpProbe}. */
export interface TcpProbeOptions {
  /** Complete a TLS handshake too (with these settings), not just the TCP connect. */
  readonly tls?: ConnectionOptions;
}

/** A TCP health check: passed when a connection (and, with `tls`, a handshake) completes. */
export const tcpProbe = <E extends ProbeTarget>(options: TcpProbeOptions = {}): HealthProbe<E> => {
  return (endpoint, signal) =>
    new Promise<boolean>((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const socket =
        options.tls === undefined
          ? netConnect({ host: endpoint.address, port: endpoint.port })
          : tlsConnect({ ...options.tls, host: endpoint.address, port: endpoint.port });
      const done = (passed: boolean): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(passed);
      };
      const onAbort = (): void => done(false);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once(options.tls === undefined ? 'connect' : 'secureConnect', () => done(true));
      socket.once('error', () => done(false));
    });
};
