import type { WorkloadRecord } from '../compile/index.js';
import type { DesiredWorkload } from './workload-document.js';

/**
 * The registry's state of a workload: `connected`; `grace` (its stream dropped, or the
 * control plane restarted; unhealthy, but its endpoint stays until the timer ends);
 * `withdrawn` (no endpoint).
 */
export type RegistryState = 'connected' | 'grace' | 'withdrawn';

/** What the registry holds of one workload. */
export interface Entry {
  record: WorkloadRecord;
  state: RegistryState;
  /** The stream of the proxy's latest connection (restored entries: the one stored). */
  streamId?: string;
  proxyVersion?: string;
  connectedAt?: string;
  lastSeenAt?: string;
  /** When the endpoint goes (state `grace`). */
  withdrawAt?: string;
  /** Set for an entry restored from the store and not yet reconnected. */
  restored: boolean;
  acked?: { version: string; at: string };
  rejected?: { version: string; reason: string };
  timer?: NodeJS.Timeout;
}

/** The stored form of an entry: health, `Ready`, proxy and config sync. */
export const desiredOf = (e: Entry): DesiredWorkload => {
  const r = e.record;
  const ready =
    e.state === 'connected'
      ? { type: 'Ready', status: 'True' as const, reason: 'Connected', message: '' }
      : e.state === 'withdrawn'
        ? { type: 'Ready', status: 'False' as const, reason: 'Withdrawn', message: 'the proxy is not connected; its endpoint was withdrawn from callers' }
        : e.restored
          ? { type: 'Ready', status: 'Unknown' as const, reason: 'AwaitingReconnect', message: `the control plane restarted; the endpoint stays until ${e.withdrawAt ?? '?'} for the proxy to reconnect` }
          : { type: 'Ready', status: 'False' as const, reason: 'Disconnected', message: `the config stream dropped; the endpoint is withdrawn at ${e.withdrawAt ?? '?'} unless the proxy reconnects` };
  return {
    namespace: r.namespace,
    name: r.name,
    service: r.service,
    address: r.address,
    port: r.port,
    labels: r.labels,
    appProtocol: r.appProtocol,
    health: e.state === 'connected' ? 'HEALTHY' : e.restored && e.state === 'grace' ? 'UNKNOWN' : 'UNHEALTHY',
    ready,
    proxy:
      e.streamId === undefined
        ? undefined
        : {
            id: e.streamId,
            ...(e.proxyVersion === undefined ? {} : { version: e.proxyVersion }),
            connected: e.state === 'connected',
            ...(e.connectedAt === undefined ? {} : { connectedAt: e.connectedAt }),
            ...(e.lastSeenAt === undefined ? {} : { lastSeenAt: e.lastSeenAt }),
          },
    config: {
      ...(e.acked === undefined ? {} : { acknowledgedVersion: e.acked.version, acknowledgedAt: e.acked.at }),
      ...(e.rejected === undefined ? {} : { rejectedVersion: e.rejected.version, rejectedReason: e.rejected.reason }),
    },
  };
};
