import type { DestinationPolicySnapshot } from '@weft/api/data-plane';
import type { HealthProbe } from '../resilience/health-checker.js';
import type { EndpointRef } from '../routing/endpoint-picker.js';
import { dial, type ConnectTarget } from '../transport/connect.js';

type HealthCheck = NonNullable<DestinationPolicySnapshot['healthCheck']>;

/** The longest status line a probe reads before it gives up on the answer. */
const MAX_STATUS_LINE = 1024;

/**
 * The active health check of a DestinationPolicy as a probe of the endpoint's proxy, over
 * the same transport requests take (mesh mTLS with the endpoint's identity checked), on a
 * connection of its own: `TCP` passes when the connection (and handshake) completes, `HTTP`
 * when `GET path` answers an expected status (200 to 399 by default). The request carries
 * the Service's name as its host, so the callee's proxy routes and authorizes it like any
 * call from this workload; only the status line is read.
 */
export const meshProbe =
  (service: string, spec: HealthCheck, targetOf: (endpoint: EndpointRef) => ConnectTarget): HealthProbe<EndpointRef> =>
  (endpoint, signal) =>
    new Promise<boolean>((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      let settled = false;
      const done = (passed: boolean): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(passed);
      };
      const onAbort = (): void => done(false);
      const socket = dial(targetOf(endpoint), 'http/1.1', (err, connected) => {
        if (err !== undefined || connected === undefined) {
          done(false);
          return;
        }
        if (spec.type === 'TCP') {
          done(true);
          return;
        }
        const expected = spec.expectedStatuses;
        let line = '';
        connected.setEncoding('latin1');
        connected.on('data', (d: string) => {
          line += d;
          const end = line.indexOf('\r\n');
          if (end < 0) {
            if (line.length > MAX_STATUS_LINE) done(false);
            return;
          }
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(line.slice(0, end));
          const status = m === null ? 0 : Number(m[1]);
          done(expected === undefined ? status >= 200 && status <= 399 : expected.includes(status));
        });
        connected.once('end', () => done(false));
        connected.write(`GET ${spec.path} HTTP/1.1\r\nhost: ${service}\r\nuser-agent: weft-health-check\r\nconnection: close\r\n\r\n`);
      });
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', () => done(false));
    });
