/**
 * Which endpoints may get traffic now, as passive (outlier detection) and active (health
 * checks) health say. Balancers do not ask per request: they read {@link version} and
 * rebuild their view of the endpoints only when it changed, which is rare.
 */
export interface Availability {
  /** Changes whenever the answer of {@link isAvailable} changes for any endpoint. */
  readonly version: number;
  isAvailable(key: string): boolean;
}

/** Every endpoint available: for backends without health checking. */
export const ALWAYS_AVAILABLE: Availability = { version: 0, isAvailable: () => true };

/** Available when every source says so (not ejected and not unhealthy). */
export const allOf = (...sources: readonly Availability[]): Availability => {
  if (sources.length === 0) return ALWAYS_AVAILABLE;
  if (sources.length === 1 && sources[0] !== undefined) return sources[0];
  return {
    // Each source's version only grows, so the sum changes whenever any of them does.
    get version() {
      let v = 0;
      for (const s of sources) v += s.version;
      return v;
    },
    isAvailable: (key) => sources.every((s) => s.isAvailable(key)),
  };
};

/**
 * The endpoints of a list that may get traffic, recomputed only when the availability
 * version moves. When none is available, all of them are used (Envoy's panic mode): a
 * Service whose every endpoint fails its checks is more likely misconfigured checks than
 * a dead Service, and sending traffic anyway is better than refusing all of it.
 */
export class AvailableEndpoints<E extends { readonly key: string }> {
  readonly all: readonly E[];
  readonly #availability: Availability;
  #seen = Number.NaN;
  #list: readonly E[] = [];
  #panic = false;
  #generation = 0;

  constructor(all: readonly E[], availability: Availability) {
    this.all = all;
    this.#availability = availability;
  }

  /** The endpoints to balance over now. */
  get list(): readonly E[] {
    this.#refresh();
    return this.#list;
  }

  /** Whether no endpoint is available and {@link list} holds all of them. */
  get panic(): boolean {
    this.#refresh();
    return this.#panic;
  }

  /** Grows each time {@link list} is recomputed, so that a balancer can rebuild its tables then. */
  get generation(): number {
    this.#refresh();
    return this.#generation;
  }

  /** Available endpoints (not counting panic), for locality shares. */
  get availableCount(): number {
    this.#refresh();
    return this.#panic ? 0 : this.#list.length;
  }

  #refresh(): void {
    const v = this.#availability.version;
    if (v === this.#seen) return;
    this.#seen = v;
    const up = this.all.filter((e) => this.#availability.isAvailable(e.key));
    this.#panic = up.length === 0 && this.all.length > 0;
    this.#list = this.#panic ? this.all : up;
    this.#generation++;
  }
}
