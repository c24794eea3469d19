/**
 * How one attempt to an upstream endpoint ended, as the retry policy, the outlier detector
 * and the load balancers all read it. A response carries its status and, for gRPC, the
 * `grpc-status` of its head (a trailers-only response) or of its trailers.
 */
export type AttemptOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly grpcStatus?: number | undefined }
  /** The connection could not be opened (refused, unreachable, TLS handshake failed, connect timeout). */
  | { readonly kind: 'connect-failure' }
  /** The connection or stream was closed or reset before a whole response head. */
  | { readonly kind: 'reset' }
  /** HTTP/2 `REFUSED_STREAM`: the server did not process the request, so it is always safe to retry. */
  | { readonly kind: 'refused-stream' }
  /** No response head within the per-attempt timeout. */
  | { readonly kind: 'timeout' };

/** gRPC status codes by the canonical names FaultPolicy and retry policies use. */
export const GRPC_STATUS_CODES = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusName = keyof typeof GRPC_STATUS_CODES;

/**
 * The `grpc-status` value of a head or trailers as a number, or undefined when absent or
 * not a whole number from 0 to 16 (a malformed status is not a status to act on).
 */
export const parseGrpcStatus = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\d{1,2}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n <= 16 ? n : undefined;
};

/** A 502, 503 or 504 response. */
export const isGatewayErrorStatus = (status: number): boolean => status === 502 || status === 503 || status === 504;

/** Failures of the proxy's own attempt (no response from the upstream at all). */
export const isLocalFailure = (o: AttemptOutcome): boolean => o.kind !== 'response';

/**
 * Whether an outcome counts as a server error: a 5xx, or an attempt that got no response,
 * which the proxy itself answers with a 5xx.
 */
export const isServerError = (o: AttemptOutcome): boolean => o.kind !== 'response' || o.status >= 500;

/** Whether an outcome is a gateway error: 502, 503, 504, or an attempt that got no response. */
export const isGatewayError = (o: AttemptOutcome): boolean => o.kind !== 'response' || isGatewayErrorStatus(o.status);
