/** What load-aware balancers know of one endpoint. */
export interface EndpointLoad {
  /** Requests in flight from this proxy. */
  active: number;
  /** Peak-EWMA latency estimate, in ms; NaN until the first sample. */
  rttMs: number;
  /** When {@link rttMs} was last updated (clock ms). */
  rttAt: number;
}

/**
 * Load per endpoint key, shared by the balancers built for successive configs of a Service,
 * so that the requests in flight when a config changes still count against their endpoint
 * in the new balancer, and their ends are not lost.
 */
export class EndpointLoads {
  readonly #loads = new Map<string, EndpointLoad>();

  /** The load record of `key`, created empty when new. */
  of(key: string): EndpointLoad {
    let load = this.#loads.get(key);
    if (load === undefined) {
      load = { active: 0, rttMs: Number.NaN, rttAt: 0 };
      this.#loads.set(key, load);
    }
    return load;
  }

  /** Forgets endpoints that left, except those with requests still in flight. */
  retain(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const [key, load] of this.#loads) if (!keep.has(key) && load.active === 0) this.#loads.delete(key);
  }

  get size(): number {
    return this.#loads.size;
  }

  /** A request started: one more in flight. */
  started(key: string): void {
    this.of(key).active++;
  }

  /** A request ended: one fewer in flight, never below zero. */
  ended(key: string): void {
    const load = this.of(key);
    if (load.active > 0) load.active--;
  }
}
