import type { Balancer } from '../balancing/balancer.js';
import type { HashKeySpec } from '../balancing/hash-key.js';
import type { Destination } from '../destination/destination.js';
import type { EndpointRef } from './endpoint-picker.js';

/**
 * A set of endpoints a route sends (or mirrors) to: a service, or the subset of it with
 * some labels, balanced as the service's DestinationPolicy says.
 */
export interface Backend {
  /** `name.namespace`, with `[k=v,...]` when it is a subset. */
  readonly name: string;
  readonly service: string;
  /** The upstream Service's policies and what the proxy learned of it; shared by its backends. */
  readonly destination: Destination;
  /** Built per config over the subset's endpoints; reads the destination's availability and loads. */
  readonly balancer: Balancer<EndpointRef>;
  /** For consistent hashing: what the request's hash is computed from. */
  readonly hashKey: HashKeySpec | undefined;
}

/** The name of a backend: its service key, with the subset's labels when it has any. */
export const backendName = (service: string, subset: Readonly<Record<string, string>> | undefined): string =>
  subset === undefined || Object.keys(subset).length === 0
    ? service
    : `${service}[${Object.entries(subset)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}]`;
