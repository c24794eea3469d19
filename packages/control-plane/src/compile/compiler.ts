import type { AnyResource, Hello, ProxySnapshot } from '@weft/api';
import { buildMeshContext, type MeshContext, type MeshTrust } from './mesh-context.js';
import { renderProxySnapshot, selectForProxy, type ProxySelection } from './proxy-snapshot.js';
import type { ResourceStatusReport } from './status.js';
import type { WorkloadRecord } from './workload-record.js';

/**
 * The incremental face of the compiler: `update` builds a new mesh context (once per
 * change), `snapshotFor` answers each proxy from a cache keyed by the versions of its
 * inputs, so a proxy whose inputs did not change costs a lookup, and proxies with the same
 * inputs (replicas of one service) share one snapshot.
 *
 * The cache keeps two generations: what was used since the last `update`, and before. An
 * entry unused for a whole generation is dropped, so memory follows the live proxies.
 */
export class Compiler {
  #ctx: MeshContext;
  #current = new Map<string, ProxySnapshot>();
  #previous = new Map<string, ProxySnapshot>();
  /** Selections of `allServices` proxies by namespace and Service: they depend on nothing else. */
  #allServices = new Map<string, ProxySelection>();
  #compiles = 0;

  constructor(resources: readonly AnyResource[] = [], workloads: readonly WorkloadRecord[] = []) {
    this.#ctx = buildMeshContext({ resources, workloads });
  }

  /** Rebuilds the mesh context from the full current state; returns it. */
  update(resources: readonly AnyResource[], workloads: readonly WorkloadRecord[], trust?: MeshTrust): MeshContext {
    this.#ctx = buildMeshContext({ resources, workloads, ...(trust === undefined ? {} : { trust }) });
    this.#previous = this.#current;
    this.#current = new Map();
    this.#allServices = new Map();
    return this.#ctx;
  }

  /** The snapshot for `hello`'s proxy; the same object while its inputs stay the same. */
  snapshotFor(hello: Hello): ProxySnapshot {
    const selection = this.#select(hello);
    const key = `${selection.routesVersion}/${selection.endpointsVersion}`;
    let snapshot = this.#current.get(key) ?? this.#previous.get(key);
    if (snapshot === undefined) {
      snapshot = renderProxySnapshot(this.#ctx, selection);
      this.#compiles++;
    }
    this.#current.set(key, snapshot);
    return snapshot;
  }

  #select(hello: Hello): ProxySelection {
    // An allServices proxy's selection depends only on its namespace and, for its inbound
    // authorization, its Service, once that Service is known.
    const ownKey = `${hello.service}.${hello.namespace}`;
    if (!hello.allServices || !this.#ctx.services.has(ownKey)) return selectForProxy(this.#ctx, hello);
    let s = this.#allServices.get(ownKey);
    if (s === undefined) {
      s = selectForProxy(this.#ctx, hello);
      this.#allServices.set(ownKey, s);
    }
    return s;
  }

  /** The current mesh context. */
  get context(): MeshContext {
    return this.#ctx;
  }

  /** The statuses of the current context's resources. */
  get statuses(): readonly ResourceStatusReport[] {
    return this.#ctx.statuses;
  }

  /** How many snapshots were built (not served from the cache) since construction. */
  get compileCount(): number {
    return this.#compiles;
  }
}
