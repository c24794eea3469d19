/**
 * The load-balancing interface: a balancer holds the endpoints of one backend (a Service,
 * or the subset of it a route selects) and picks one per attempt. It is built whole at
 * config time and never sees per-request config; the proxy tells it when each request
 * starts and ends so that load-aware balancers can see load and latency.
 */

/** An endpoint as balancers see it: the routing layer's `EndpointRef` plus its weight. */
export interface BalancedEndpoint {
  /** `address:port`, unique within a backend. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Relative share of traffic, a whole number >= 1. */
  readonly weight: number;
}

/** What a pick may depend on besides the balancer's own state. */
export interface PickContext {
  /** The request's hash for consistent hashing (see hash-key.ts); absent, a hashing balancer falls back. */
  readonly hash?: number | undefined;
}

/** How a request to an endpoint ended, as far as balancing cares. */
export interface RequestEnd {
  /** Time from sending the request to the end of the response head (or the failure), in ms. */
  readonly latencyMs: number;
  /** False for 5xx responses and attempts without a response. */
  readonly success: boolean;
}

export interface Balancer<E extends BalancedEndpoint = BalancedEndpoint> {
  /** The endpoint for the next attempt, or undefined when the backend has none. */
  pick(context?: PickContext): E | undefined;
  /** A request to `endpoint` was sent. */
  onRequestStart(endpoint: E): void;
  /** A request to `endpoint` ended; called once per {@link onRequestStart}. */
  onRequestEnd(endpoint: E, end: RequestEnd): void;
}

/** The start and end callbacks for balancers that do not track load. */
export const noLoadTracking = {
  onRequestStart(): void {},
  onRequestEnd(): void {},
};
