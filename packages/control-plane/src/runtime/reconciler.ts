import type { AnyResource, Hello, ProxySnapshot } from '@weft/api';
import type { Logger } from '@weft/core';
import { Compiler, type MeshTrust, type WorkloadRecord } from '../compile/index.js';
import type { StatusSync } from './status-sync.js';

/** What the reconciler reads and feeds. */
export interface ReconcilerOptions {
  /** The stored resources now. */
  readonly resources: () => readonly AnyResource[];
  /** The registry's records now. */
  readonly workloads: () => readonly WorkloadRecord[];
  /** The CA's bundle and signing root now; without it proxies get plaintext transport. */
  readonly trust?: () => MeshTrust;
  /** Pushes new snapshots after a compile (the stream server's `refresh`); returns how many. */
  readonly push: () => number;
  readonly statuses: StatusSync;
  /** Reads a resource from the cache, for comparing statuses. */
  readonly current: (kind: string, namespace: string, name: string) => AnyResource | undefined;
  readonly logger: Logger;
  /** Changes within this window are compiled together (default 10 ms). */
  readonly delayMs?: number;
}

/**
 * The config path's loop: a change (in the store or the registry) schedules one compile
 * within `delayMs` (so a burst of changes costs one), which rebuilds the mesh context,
 * pushes to the proxies whose snapshot version changed and writes changed statuses back.
 */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #compiler = new Compiler();
  #timer: NodeJS.Timeout | undefined;
  #waiters: (() => void)[] = [];
  #stopped = false;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
  }

  /** Schedules a compile (one per `delayMs` however many changes come). */
  schedule(): void {
    if (this.#stopped) return;
    this.#timer ??= setTimeout(() => this.compileNow(), this.#o.delayMs ?? 10);
  }

  /** Compiles now: context, pushes, statuses. */
  compileNow(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    const started = performance.now();
    try {
      this.#compiler.update(this.#o.resources(), this.#o.workloads(), this.#o.trust?.());
      const pushed = this.#o.push();
      this.#o.statuses.sync(this.#compiler.statuses, this.#o.current);
      this.#o.logger.debug({ pushed, ms: Math.round(performance.now() - started) }, 'compiled');
    } catch (err) {
      // A compiler bug: proxies keep what they run; the next change tries again.
      this.#o.logger.error({ err }, 'compiling the mesh failed; proxies keep their current config');
    }
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** The snapshot of the proxy of `hello` in the current context. */
  snapshotFor(hello: Hello): ProxySnapshot {
    return this.#compiler.snapshotFor(hello);
  }

  /** Resolves after the pending compile, if any (and at once otherwise). */
  idle(): Promise<void> {
    if (this.#timer === undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** No more compiles. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#waiters) w();
    this.#waiters = [];
  }
}
