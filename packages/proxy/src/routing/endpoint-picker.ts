import type { Endpoint } from '@weft/api/data-plane';

/** An endpoint as the data path uses it: its address and a stable key for pools and logs. */
export interface EndpointRef {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The SPIFFE ID its proxy must present, when the control plane said. */
  readonly identity?: string;
}

/**
 * The key of a connection target: the endpoint and the identity it must present. Pools,
 * HTTP/2 sessions and TLS session tickets are kept per target, so that should another
 * workload take over an address, nothing verified for the old identity is reused for it.
 */
export const connectKey = (endpoint: string, identity: string | undefined): string => (identity === undefined ? endpoint : `${endpoint}|${identity}`);

/** The key of an endpoint in pools, logs and errors: `address:port`, IPv6 in brackets. */
export const endpointKey = (address: string, port: number): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

/**
 * Round-robin over an immutable list of endpoints. Picking is synchronous and allocation
 * free; a config change builds a new picker instead of mutating this one, so a request
 * that already picked keeps a consistent view. Weights repeat an endpoint in the ring.
 */
export class RoundRobinPicker {
  readonly endpoints: readonly EndpointRef[];
  readonly #ring: readonly EndpointRef[];
  #next = 0;

  constructor(endpoints: readonly Endpoint[]) {
    this.endpoints = endpoints.map((e) => ({
      key: endpointKey(e.address, e.port),
      address: e.address,
      port: e.port,
      labels: e.labels,
      ...(e.identity === undefined ? {} : { identity: e.identity }),
    }));
    const ring: EndpointRef[] = [];
    this.endpoints.forEach((ref, i) => {
      const weight = endpoints[i]?.weight ?? 1;
      for (let w = 0; w < weight; w++) ring.push(ref);
    });
    this.#ring = ring;
    // Start each proxy at a different place so that many callers do not hit the same
    // endpoint first after every config change.
    this.#next = ring.length > 0 ? Math.floor(Math.random() * ring.length) : 0;
  }

  /** The next endpoint, or undefined when there is none. */
  pick(): EndpointRef | undefined {
    const ring = this.#ring;
    if (ring.length === 0) return undefined;
    if (this.#next >= ring.length) this.#next = 0;
    return ring[this.#next++];
  }
}
