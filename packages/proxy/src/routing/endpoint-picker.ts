/** An endpoint as the data path uses it: its address and a stable key for pools and logs. */
export interface EndpointRef {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  /** Relative share of traffic, a whole number >= 1. */
  readonly weight: number;
  /** {@link connectKey} of the endpoint and its identity, made once per config for the pools' lookups. */
  readonly connectKey: string;
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
