import type { PeerIdentity } from '../authz/peer-identity.js';

/**
 * What telemetry needs of a finished request, whatever protocol carried it. The HTTP/1.1
 * Exchange and the HTTP/2 H2Exchange both satisfy it, so that one recorder serves both.
 */
export interface FinishedRequest {
  /** What the request was routed to (a LogicalService outbound), or undefined. */
  readonly target: object | undefined;
  readonly protocol: 'http' | 'grpc';
  /** Final status sent to the client (0 when none was). */
  readonly status: number;
  /** Envoy-style response flag, `-` when none. */
  readonly flag: string;
  /** `grpc-status` of a gRPC response as text, `''` when none. */
  readonly grpcStatus: string;
  /** performance.now() when the request head arrived. */
  readonly startedAt: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  /** True for a request that switched protocols (counted as TCP, not HTTP). */
  readonly upgraded: boolean;
  /** Inbound: the caller's identity from its certificate, if it presented a workload identity. */
  readonly peer: PeerIdentity | undefined;
  /** Inbound: whether the request came over mutual TLS (Istio's `connection_security_policy`). */
  readonly mutualTls: boolean;
}
