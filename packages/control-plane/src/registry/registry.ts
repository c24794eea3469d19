import type { Hello, Workload } from '@weft/api';
import type { Logger } from '@weft/core';
import { workloadRecordFromHello, type WorkloadRecord } from '../compile/index.js';
import { desiredOf, type Entry } from './registry-entry.js';
import { APP_PROTOCOL_ANNOTATION, helloRegistrationProblem } from './workload-document.js';
import type { WorkloadWriter } from './workload-writer.js';

/** Options of {@link Registry}. */
export interface RegistryOptions {
  /** How long a dropped proxy's endpoint stays with callers, for it to reconnect (default 5 s). */
  readonly graceMs?: number;
  /**
   * After a control-plane restart, how long endpoints of proxies that were connected stay
   * while they reconnect (default the larger of 15 s and `graceMs`: longer than the
   * proxies' largest reconnect delay, so that a restart does not withdraw live endpoints).
   */
  readonly restartGraceMs?: number;
  /** Persistence; without it the registry lives in memory only. */
  readonly writer?: WorkloadWriter;
  readonly logger: Logger;
  /** Called when {@link Registry.records} changed (an endpoint came, went or moved). */
  readonly onChange: () => void;
  readonly now?: () => Date;
}

/** A connection as the registry sees it. */
export interface RegistryConnection {
  /** Identifier of the stream. */
  readonly id: string;
  readonly hello: Hello;
  readonly connectedAt: string;
}

/** Whether a proxy was registered, or why not. */
export type RegisterResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export type { RegistryState } from './registry-entry.js';

/** One registered workload, for status and tests. */
export interface RegistryEntryView {
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly state: Entry['state'];
  /** Whether callers get its endpoint. */
  readonly serving: boolean;
  readonly streamId?: string;
  readonly acknowledgedVersion?: string;
  readonly rejectedVersion?: string;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

const sameRecord = (a: WorkloadRecord, b: WorkloadRecord): boolean =>
  a.service === b.service && a.address === b.address && a.port === b.port && a.appProtocol === b.appProtocol && JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort());

/**
 * The workloads of connected proxies. A proxy is registered by its hello and healthy while
 * its stream is up. When the stream drops it is marked unhealthy at once, and its endpoint
 * is withdrawn from other proxies only after `graceMs`: a proxy that reconnects within it
 * (a control-plane connection blip, a quick proxy restart) never costs its callers an
 * endpoint change. Everything is persisted as `Workload` resources (status: health,
 * connected proxy, acknowledged and refused config versions), and restored from them when
 * the control plane restarts.
 */
export class Registry {
  readonly #o: RegistryOptions;
  readonly #graceMs: number;
  readonly #restartGraceMs: number;
  readonly #entries = new Map<string, Entry>();
  #records: WorkloadRecord[] | undefined;
  #frozen = false;

  constructor(options: RegistryOptions) {
    this.#o = options;
    this.#graceMs = options.graceMs ?? 5000;
    this.#restartGraceMs = options.restartGraceMs ?? Math.max(15_000, this.#graceMs);
  }

  /**
   * Takes over the registered workloads of the previous run (`Workload`s with `spec.inMesh`):
   * those whose proxy was connected keep their endpoint for `restartGraceMs` while they
   * reconnect; the others stay withdrawn. Call before any proxy connects.
   */
  restore(workloads: readonly Workload[]): void {
    for (const w of workloads) {
      if (!w.spec.inMesh) continue;
      const key = keyOf(w.metadata.namespace, w.metadata.name);
      if (this.#entries.has(key)) continue;
      const protocol = w.metadata.annotations[APP_PROTOCOL_ANNOTATION];
      const wasLive = w.status?.proxy?.connected === true || w.status?.health === 'UNKNOWN';
      const entry: Entry = {
        record: {
          name: w.metadata.name,
          namespace: w.metadata.namespace,
          service: w.spec.service,
          address: w.spec.address,
          port: w.spec.port,
          labels: { ...w.metadata.labels },
          healthy: wasLive,
          source: 'proxy',
          ...(protocol === 'http' || protocol === 'http2' || protocol === 'grpc' || protocol === 'tcp' ? { appProtocol: protocol } : {}),
        },
        state: wasLive ? 'grace' : 'withdrawn',
        restored: true,
        ...(w.status?.proxy === undefined ? {} : { streamId: w.status.proxy.id }),
        ...(w.status?.proxy?.connectedAt === undefined ? {} : { connectedAt: w.status.proxy.connectedAt }),
        ...(w.status?.proxy?.version === undefined ? {} : { proxyVersion: w.status.proxy.version }),
        ...(w.status?.config?.acknowledgedVersion === undefined ? {} : { acked: { version: w.status.config.acknowledgedVersion, at: w.status.config.acknowledgedAt ?? this.#now() } }),
      };
      this.#entries.set(key, entry);
      if (wasLive) {
        this.#startGrace(key, entry, this.#restartGraceMs);
        this.#persist(entry);
      }
    }
    this.#changed();
  }

  /** Registers the proxy of `conn` (replacing any earlier connection of the same workload). */
  connect(conn: RegistryConnection): RegisterResult {
    const problem = helloRegistrationProblem(conn.hello);
    if (problem !== undefined) return { ok: false, reason: problem };
    const h = conn.hello;
    const key = keyOf(h.namespace, h.workload);
    const record = workloadRecordFromHello(h, true);
    const prev = this.#entries.get(key);
    if (prev?.timer !== undefined) clearTimeout(prev.timer);
    const entry: Entry = {
      record,
      state: 'connected',
      streamId: conn.id,
      proxyVersion: h.proxyVersion,
      connectedAt: conn.connectedAt,
      lastSeenAt: this.#now(),
      restored: false,
      ...(prev?.acked === undefined ? {} : { acked: prev.acked }),
      ...(prev?.rejected === undefined ? {} : { rejected: prev.rejected }),
    };
    this.#entries.set(key, entry);
    this.#persist(entry);
    if (prev === undefined) this.#o.writer?.ensureService(h.namespace, h.service, h.appProtocol);
    if (prev === undefined || !prev.record.healthy || !sameRecord(prev.record, record)) this.#changed();
    return { ok: true };
  }

  /** The stream `streamId` of workload `namespace/name` ended: unhealthy now, withdrawn after the grace period. */
  disconnect(streamId: string, namespace: string, name: string): void {
    if (this.#frozen) return;
    const key = keyOf(namespace, name);
    const entry = this.#entries.get(key);
    // A replaced stream ends after its successor registered: nothing to do.
    if (entry === undefined || entry.streamId !== streamId || entry.state !== 'connected') return;
    entry.state = 'grace';
    this.#startGrace(key, entry, this.#graceMs);
    this.#persist(entry);
  }

  /** The proxy of stream `streamId` runs `version`. */
  acked(streamId: string, namespace: string, name: string, version: string): void {
    const entry = this.#live(streamId, namespace, name);
    if (entry === undefined) return;
    entry.acked = { version, at: this.#now() };
    entry.lastSeenAt = entry.acked.at;
    // A newer version is running: the refusal it replaced is history.
    if (entry.rejected !== undefined && entry.rejected.version !== version) delete entry.rejected;
    this.#persist(entry);
  }

  /** The proxy of stream `streamId` refused `version` (and keeps its last good config). */
  nacked(streamId: string, namespace: string, name: string, version: string, reason: string): void {
    const entry = this.#live(streamId, namespace, name);
    if (entry === undefined) return;
    entry.rejected = { version, reason };
    entry.lastSeenAt = this.#now();
    this.#persist(entry);
  }

  /** Every registered workload as the compiler needs it; the same array until something changes. */
  records(): readonly WorkloadRecord[] {
    this.#records ??= [...this.#entries.values()].map((e) => e.record);
    return this.#records;
  }

  /** Every registered workload, by namespace and name. */
  entries(): RegistryEntryView[] {
    return [...this.#entries.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => ({
        namespace: e.record.namespace,
        name: e.record.name,
        service: e.record.service,
        state: e.state,
        serving: e.record.healthy,
        ...(e.streamId === undefined ? {} : { streamId: e.streamId }),
        ...(e.acked === undefined ? {} : { acknowledgedVersion: e.acked.version }),
        ...(e.rejected === undefined ? {} : { rejectedVersion: e.rejected.version }),
      }));
  }

  /**
   * Stops reacting (for shutdown): disconnects are ignored and grace timers stop, so that
   * the control plane going away does not mark its proxies unhealthy: they are fine, and
   * the next run restores them.
   */
  freeze(): void {
    this.#frozen = true;
    for (const e of this.#entries.values()) if (e.timer !== undefined) clearTimeout(e.timer);
  }

  /** Waits for the writes accepted so far. */
  async flush(): Promise<void> {
    await this.#o.writer?.flush();
  }

  #live(streamId: string, namespace: string, name: string): Entry | undefined {
    const e = this.#entries.get(keyOf(namespace, name));
    return e !== undefined && e.streamId === streamId ? e : undefined;
  }

  #startGrace(key: string, entry: Entry, ms: number): void {
    entry.withdrawAt = new Date(this.#nowDate().getTime() + ms).toISOString();
    entry.timer = setTimeout(() => {
      if (this.#frozen || this.#entries.get(key) !== entry || entry.state !== 'grace') return;
      entry.state = 'withdrawn';
      entry.record = { ...entry.record, healthy: false };
      delete entry.timer;
      this.#o.logger.info({ workload: entry.record.name, namespace: entry.record.namespace }, 'proxy did not reconnect: endpoint withdrawn');
      this.#persist(entry);
      this.#changed();
    }, ms);
    entry.timer.unref();
  }

  #changed(): void {
    this.#records = undefined;
    this.#o.onChange();
  }

  #persist(e: Entry): void {
    this.#o.writer?.put(desiredOf(e));
  }

  #nowDate(): Date {
    return this.#o.now?.() ?? new Date();
  }

  #now(): string {
    return this.#nowDate().toISOString();
  }
}
