import { snapshotVersion, type ProxyBootstrap, type ProxySnapshot } from '@weft/api/data-plane';
import { buildDestinations, retireDestinations, type Destination, type DestinationEnv } from '../destination/destination.js';
import { meshProbe } from '../destination/mesh-probe.js';
import { systemClock, systemTimer } from '../resilience/clock.js';
import { connectKey, endpointKey, type EndpointRef } from '../routing/endpoint-picker.js';
import { RoutingTable } from '../routing/routing-table.js';
import { Http1Pool } from '../http1/upstream.js';
import type { ConnectTarget } from '../transport/connect.js';
import { loadTlsMaterial, type TlsMaterial, type WorkloadCertificate } from '../transport/tls-config.js';

/**
 * Everything compiled from one snapshot that the request path reads. It is built whole,
 * then swapped in at once; requests in flight keep the state they started with.
 */
export class ConfigState {
  readonly snapshot: ProxySnapshot;
  readonly version: string;
  readonly table: RoutingTable;
  readonly tls: TlsMaterial | undefined;
  /** The upstream Services' policies and state; carried over from the previous config where the policy is unchanged. */
  readonly destinations: ReadonlyMap<string, Destination>;
  /** The newest config of this proxy, for destinations that outlive the config that made them (health probes dial with its TLS). */
  readonly #latest: { state: ConfigState };
  /** Pools of this state by endpoint key; shared with the next state where unchanged. */
  readonly #pools: Map<string, Http1Pool>;
  readonly #appTarget: ConnectTarget | undefined;
  #appPool: Http1Pool | undefined;

  /** The workload certificate this state's TLS material was made with. */
  readonly workload: WorkloadCertificate | undefined;

  constructor(snapshot: ProxySnapshot, bootstrap: ProxyBootstrap, previous: ConfigState | undefined, workload?: WorkloadCertificate) {
    this.snapshot = snapshot;
    this.version = snapshotVersion(snapshot);
    this.workload = workload;
    this.tls = loadTlsMaterial(snapshot.transport, workload);
    this.#latest = previous === undefined ? { state: this } : previous.#latest;
    this.#latest.state = this;
    const latest = this.#latest;
    const env: DestinationEnv = {
      clock: systemClock,
      timer: systemTimer,
      random: Math.random,
      caller: { zone: bootstrap.labels['zone'], region: bootstrap.labels['region'] },
      probeFor: (service, spec) => meshProbe(service, spec, (e) => ({ ...latest.state.targetFor(e), connectTimeoutMs: spec.timeoutMs })),
    };
    this.destinations = buildDestinations(snapshot.endpoints, snapshot.destinations, previous?.destinations, env);
    this.table = new RoutingTable(snapshot, bootstrap.namespace, this.destinations, env);
    // Pools survive a swap when the endpoint and the TLS material are unchanged, so that a
    // route change does not cost every connection. A renewed certificate makes new pools:
    // the old ones finish their requests and close, so nothing in flight fails.
    const sameTransport =
      previous !== undefined &&
      previous.workload === workload &&
      JSON.stringify(previous.snapshot.transport) === JSON.stringify(snapshot.transport) &&
      JSON.stringify(previous.snapshot.limits) === JSON.stringify(snapshot.limits);
    this.#pools = sameTransport ? previous.#pools : new Map();
    this.#appPool = sameTransport ? previous.#appPool : undefined;
    this.#appTarget =
      bootstrap.appPort === undefined
        ? undefined
        : {
            key: `app|${bootstrap.appHost}:${bootstrap.appPort}`,
            host: bootstrap.appHost,
            port: bootstrap.appPort,
            connectTimeoutMs: snapshot.limits.connectTimeoutMs,
          };
  }

  /** How to dial an endpoint of another proxy with this config's transport. */
  targetFor(endpoint: EndpointRef): ConnectTarget {
    const tls = this.tls;
    return {
      key: endpoint.connectKey,
      host: endpoint.address,
      port: endpoint.port,
      connectTimeoutMs: this.snapshot.limits.connectTimeoutMs,
      ...(tls === undefined ? {} : { tls: { context: tls.client, verifyPeer: tls.verifyPeer(endpoint.identity) } }),
    };
  }

  /**
   * The pool for an endpoint of another proxy. `destination`: the Service it is reached
   * as, whose breaker bounds connections and waiting requests across all its endpoints.
   */
  poolFor(endpoint: EndpointRef, destination?: Destination): Http1Pool {
    const key = endpoint.connectKey;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new Http1Pool(this.targetFor(endpoint), {
        maxConnections: this.snapshot.limits.maxConnectionsPerEndpoint,
        maxPending: this.snapshot.limits.maxPendingRequestsPerEndpoint,
      });
      this.#pools.set(key, pool);
    }
    if (destination !== undefined) pool.breaker = destination.breaker;
    return pool;
  }

  /** The pool for the local application, or undefined for a client-only proxy. */
  appPool(): Http1Pool | undefined {
    if (this.#appTarget === undefined) return undefined;
    this.#appPool ??= new Http1Pool(this.#appTarget, {
      maxConnections: this.snapshot.limits.maxConnectionsPerEndpoint,
      maxPending: this.snapshot.limits.maxPendingRequestsPerEndpoint,
    });
    return this.#appPool;
  }

  /** Closes what the next state does not share: pools of endpoints that are gone. */
  retire(next: ConfigState | undefined): void {
    retireDestinations(this.destinations, next?.destinations);
    const shared = next !== undefined && next.#pools === this.#pools;
    const keep = shared ? next.#liveEndpointKeys() : new Set<string>();
    for (const [key, pool] of this.#pools) {
      if (keep.has(key)) continue;
      pool.close();
      if (shared) this.#pools.delete(key);
    }
    if (next === undefined || next.#appPool !== this.#appPool) this.#appPool?.close();
  }

  #liveEndpointKeys(): Set<string> {
    const keys = new Set<string>();
    for (const list of Object.values(this.snapshot.endpoints)) {
      for (const e of list) keys.add(connectKey(endpointKey(e.address, e.port), e.identity));
    }
    return keys;
  }
}
