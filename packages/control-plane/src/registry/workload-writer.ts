import { WEFT_API_VERSION, type AnyResource, type AppProtocol } from '@weft/api';
import type { Logger } from '@weft/core';
import type { StatusUpdate } from '../manager/index.js';
import type { StoreKey } from '../store/index.js';
import { IMPLIED_BY_ANNOTATION, sameRegistration, workloadDocument, type DesiredWorkload } from './workload-document.js';

/** The part of the resource manager the registry writes through (`ResourceManager` fits). */
export interface RegistryManager {
  get(key: StoreKey): Promise<AnyResource | undefined>;
  apply(doc: unknown): Promise<unknown>;
  setStatus(key: StoreKey, update: StatusUpdate): Promise<unknown>;
}

/** Where the registry persists what it knows. */
export interface WorkloadWriter {
  /** Stores `w` (creating or updating its Workload, then its status); later calls for the same key supersede waiting ones. */
  put(w: DesiredWorkload): void;
  /** Creates Service `namespace/name` (implied by a registration) unless it exists. */
  ensureService(namespace: string, name: string, appProtocol: AppProtocol): void;
  /** Resolves once every write accepted so far is done (or failed, and was logged). */
  flush(): Promise<void>;
}

/**
 * Persists the registry as `Workload` resources through the resource manager, so that they
 * are validated and stamped like any resource and `weft get workloads` shows them. Writes
 * are coalesced per workload: while one is in flight only the newest state waits, so a
 * burst of ACKs from a proxy costs at most two writes. A failed write is logged and
 * dropped: the next change of that workload writes its whole state again.
 */
export class ManagerWorkloadWriter implements WorkloadWriter {
  readonly #manager: RegistryManager;
  readonly #log: Logger;
  readonly #waiting = new Map<string, () => Promise<void>>();
  readonly #running = new Map<string, Promise<void>>();

  constructor(manager: RegistryManager, logger: Logger) {
    this.#manager = manager;
    this.#log = logger.child({ component: 'registry-writer' });
  }

  put(w: DesiredWorkload): void {
    this.#enqueue(`Workload/${w.namespace}/${w.name}`, () => this.#writeWorkload(w));
  }

  ensureService(namespace: string, name: string, appProtocol: AppProtocol): void {
    this.#enqueue(`Service/${namespace}/${name}`, () => this.#ensureService(namespace, name, appProtocol));
  }

  async flush(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running.values()]);
  }

  #enqueue(key: string, write: () => Promise<void>): void {
    this.#waiting.set(key, write);
    if (this.#running.has(key)) return;
    const run = (async () => {
      for (let next = this.#waiting.get(key); next !== undefined; next = this.#waiting.get(key)) {
        this.#waiting.delete(key);
        try {
          await next();
        } catch (err) {
          this.#log.warn({ err, key }, 'could not store registry state; the next change writes it again');
        }
      }
    })().finally(() => this.#running.delete(key));
    this.#running.set(key, run);
  }

  async #writeWorkload(w: DesiredWorkload): Promise<void> {
    const key: StoreKey = { kind: 'Workload', namespace: w.namespace, name: w.name };
    const current = await this.#manager.get(key);
    if (current === undefined || current.kind !== 'Workload' || !sameRegistration(current, w)) {
      const annotations = current?.kind === 'Workload' ? current.metadata.annotations : {};
      await this.#manager.apply(workloadDocument(w, annotations));
    }
    await this.#manager.setStatus(key, {
      conditions: [w.ready],
      fields: { health: w.health, config: w.config, ...(w.proxy === undefined ? {} : { proxy: w.proxy }) },
    });
  }

  async #ensureService(namespace: string, name: string, appProtocol: AppProtocol): Promise<void> {
    if ((await this.#manager.get({ kind: 'Service', namespace, name })) !== undefined) return;
    // The port the compiler implies for an undeclared Service (see compile/service-index.ts).
    await this.#manager.apply({
      apiVersion: WEFT_API_VERSION,
      kind: 'Service',
      metadata: { name, namespace, annotations: { [IMPLIED_BY_ANNOTATION]: 'registration' } },
      spec: { ports: [{ name: appProtocol, port: 80, appProtocol }] },
    });
    this.#log.info({ namespace, service: name }, 'created the Service implied by a registration');
  }
}
