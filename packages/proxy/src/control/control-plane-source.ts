import type { CertificateReport, ProxyBootstrap, ProxySnapshot } from '@weft/api/data-plane';
import type { Logger } from '@weft/core';
import { helloFromBootstrap } from './hello.js';
import { SnapshotCache } from './snapshot-cache.js';
import { ConfigStreamClient, type ConfigStreamClientOptions, type StreamClientStatus } from './stream-client.js';

/** Tuning of the stream client (tests shorten the timings). */
export type StreamClientTuning = Pick<ConfigStreamClientOptions, 'backoff' | 'connectTimeoutMs' | 'keepaliveMs' | 'maxMessageBytes' | 'stableMs' | 'tls'>;

/** Options of {@link ControlPlaneSource}. */
export interface ControlPlaneSourceOptions {
  /** The control plane's stream address, `HOST:PORT`. */
  readonly address: string;
  /** The proxy's bootstrap, with its inbound port resolved (not 0). */
  readonly bootstrap: ProxyBootstrap;
  readonly workload: string;
  /** Where other proxies reach this one. */
  readonly advertiseAddress: string;
  /** The snapshot cache file; without it nothing is cached. */
  readonly cacheFile?: string;
  /** The workload certificate the proxy serves with now, for the hello. */
  readonly certificate?: () => CertificateReport | undefined;
  readonly logger: Logger;
  /**
   * Loads a snapshot into the proxy (the first one starts it). Throws when the snapshot
   * cannot be used: that is a NACK, and the proxy keeps what it had.
   */
  readonly load: (snapshot: ProxySnapshot, origin: 'cache' | 'stream') => Promise<void>;
  readonly client?: StreamClientTuning;
  /** Called whenever {@link ControlPlaneSource.view} changes. */
  readonly onChange?: () => void;
}

/** What `/config` shows of the control plane: the stream and what the proxy runs. */
export interface ControlPlaneView extends StreamClientStatus {
  readonly workload: string;
  /** The version the proxy runs, and where it came from. */
  readonly version?: string;
  readonly origin?: 'cache' | 'stream';
  readonly cacheFile?: string;
}

/**
 * Snapshots from the control plane for one sidecar. `start` first loads the cached
 * snapshot, if there is a usable one, so that the proxy serves at once even when the
 * control plane is unreachable; then the stream client connects and keeps the proxy in
 * sync (saying, in its hello, which version the proxy already runs, so that an unchanged
 * config is not sent again). Each snapshot loaded from the stream is cached.
 */
export class ControlPlaneSource {
  readonly #o: ControlPlaneSourceOptions;
  readonly #cache: SnapshotCache | undefined;
  readonly #client: ConfigStreamClient;
  #version: string | undefined;
  #origin: 'cache' | 'stream' | undefined;

  constructor(options: ControlPlaneSourceOptions) {
    this.#o = options;
    this.#cache = options.cacheFile === undefined ? undefined : new SnapshotCache(options.cacheFile);
    this.#client = new ConfigStreamClient({
      ...options.client,
      address: options.address,
      logger: options.logger,
      hello: () =>
        helloFromBootstrap(options.bootstrap, {
          workload: options.workload,
          address: options.advertiseAddress,
          lastVersion: this.#version,
          certificate: options.certificate?.(),
        }),
      apply: (version, snapshot) => this.#apply(version, snapshot),
      ...(options.onChange === undefined ? {} : { onChange: options.onChange }),
    });
  }

  /** Reports a renewed workload certificate to the control plane. */
  certificateRenewed(certificate: CertificateReport): void {
    this.#client.sendCertificate(certificate);
  }

  /** Loads the cache (if usable), then starts the stream. Never throws for an unusable cache. */
  async start(): Promise<void> {
    if (this.#cache !== undefined) {
      const read = await this.#cache.read();
      if (read.kind === 'unusable') this.#o.logger.warn({ file: this.#cache.path }, `snapshot cache ignored: ${read.reason}`);
      if (read.kind === 'found') {
        try {
          await this.#o.load(read.cached.snapshot, 'cache');
          this.#version = read.cached.version;
          this.#origin = 'cache';
          this.#o.logger.info({ version: read.cached.version, file: this.#cache.path }, 'serving the cached snapshot until the control plane answers');
          this.#o.onChange?.();
        } catch (err) {
          this.#o.logger.warn({ file: this.#cache.path }, `snapshot cache could not be loaded: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    this.#client.start();
  }

  /** The stream and the version in effect. */
  get view(): ControlPlaneView {
    return {
      ...this.#client.status,
      workload: this.#o.workload,
      ...(this.#version === undefined ? {} : { version: this.#version }),
      ...(this.#origin === undefined ? {} : { origin: this.#origin }),
      ...(this.#cache === undefined ? {} : { cacheFile: this.#cache.path }),
    };
  }

  /** Stops the stream, then waits for a cache write in progress (so that a clean stop never loses the newest copy). */
  async close(): Promise<void> {
    this.#client.close();
    await this.#cache?.flush();
  }

  async #apply(version: string, snapshot: ProxySnapshot): Promise<{ ok: true } | { ok: false; error: string }> {
    try {
      await this.#o.load(snapshot, 'stream');
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
    this.#version = version;
    this.#origin = 'stream';
    this.#o.onChange?.();
    this.#cache?.save({ version, snapshot }).catch((err: unknown) => {
      this.#o.logger.warn({ file: this.#cache?.path }, `could not cache the snapshot: ${err instanceof Error ? err.message : String(err)}`);
    });
    return { ok: true };
  }
}
