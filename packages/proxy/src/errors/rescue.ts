import { ERROR_CODES, type ErrorCode } from '@weft/api/data-plane';
import { describeHop, type HopRef, type ResponseExtras } from './proxy-error.js';

/**
 * The one place where a failed request becomes what the client reads. Every protocol
 * handler asks this module for the status, the response flag, the `x-weft-error` value and
 * the body, so that the same failure reads the same whether it was HTTP/1.1 or HTTP/2.
 */
export interface ErrorResponse {
  readonly status: number;
  readonly flag: string;
  /** `x-weft-error`: code, flag, hop and reason on one line. */
  readonly header: string;
  readonly body: string;
  /** gRPC status code for gRPC callers (RFC: grpc/doc/http-grpc-status-mapping). */
  readonly grpcStatus: number;
  /** Headers the error adds to its response (rate-limit state), lower-case names. */
  readonly headers: readonly (readonly [name: string, value: string])[];
}

/**
 * Codes whose gRPC status is not the one their HTTP status maps to. A rate-limit refusal is
 * `RESOURCE_EXHAUSTED`, as Envoy's rate limit filters send it
 * (`rate_limited_as_resource_exhausted`): gRPC maps 429 to `UNAVAILABLE`, which gRPC clients
 * retry at once, the wrong answer to "slow down".
 */
const GRPC_STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  WEFT_ERR_PROXY_RATE_LIMITED: 8, // RESOURCE_EXHAUSTED
  WEFT_ERR_PROXY_RATE_LIMIT_UNAVAILABLE: 8,
};

const NO_HEADERS: readonly (readonly [string, string])[] = [];

/** gRPC status a failure maps to, following gRPC's HTTP status mapping. */
const grpcStatusFor = (status: number): number => {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
      return 14; // UNAVAILABLE
    case 504:
      return 4; // DEADLINE_EXCEEDED
    default:
      return 2; // UNKNOWN
  }
};

/** Header values may not hold control characters; reasons come from sockets and peers. */
const headerSafe = (s: string): string => s.replace(/[\u0000-\u001f\u007f]+/g, ' ');

/** Renders a failure into the response a client receives. */
export const errorResponse = (code: ErrorCode, reason: string, hop: HopRef | undefined, extras?: ResponseExtras): ErrorResponse => {
  const def = ERROR_CODES[code];
  const status = extras?.status ?? def.status;
  const where = hop === undefined ? '' : ` at ${describeHop(hop)}`;
  const header = headerSafe(`${code} (${def.flag})${where}: ${reason}`);
  return {
    status,
    flag: def.flag,
    header,
    body: `${header}\n`,
    grpcStatus: extras?.grpcStatus ?? GRPC_STATUS_BY_CODE[code] ?? grpcStatusFor(status),
    headers: extras?.headers ?? NO_HEADERS,
  };
};
