import type { ErrorCode } from '@weft/api/data-plane';
import { WeftError } from '@weft/core';

/** Which side of the proxy an error happened on. */
export type HopDirection = 'inbound' | 'outbound';

/**
 * Where in the proxy a request failed: the hop (this proxy, inbound or outbound) and the
 * targets it had resolved so far. Rendered into `x-weft-error`, the body and the log line.
 */
export interface HopRef {
  readonly direction: HopDirection;
  /** The service whose sidecar this is, as `name.namespace`. */
  readonly proxy: string;
  readonly service?: string | undefined;
  readonly route?: string | undefined;
  readonly backend?: string | undefined;
  readonly endpoint?: string | undefined;
}

/**
 * What a few errors add to the response their code renders: a status of their own (a fault
 * abort answers with the policy's), a gRPC status of their own, and headers (a rate-limit
 * refusal says when to retry).
 */
export interface ResponseExtras {
  readonly status?: number;
  readonly grpcStatus?: number;
  /** Lower-case names; values already valid header values. */
  readonly headers?: readonly (readonly [name: string, value: string])[];
}

/** An error that ends one request, carrying the hop it failed in. */
export class ProxyError extends WeftError {
  readonly hop: HopRef;
  readonly extras: ResponseExtras | undefined;
  constructor(code: ErrorCode, message: string, hop: HopRef, options?: { cause?: unknown; extras?: ResponseExtras }) {
    super(code, message, { ...hop }, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.hop = hop;
    this.extras = options?.extras;
  }
}

/** Adds what the caller knows of the hop to a partial HopRef. */
export const describeHop = (hop: HopRef): string => {
  let s = `${hop.direction} proxy=${hop.proxy}`;
  if (hop.service !== undefined) s += ` service=${hop.service}`;
  if (hop.route !== undefined) s += ` route=${hop.route}`;
  if (hop.backend !== undefined) s += ` backend=${hop.backend}`;
  if (hop.endpoint !== undefined) s += ` endpoint=${hop.endpoint}`;
  return s;
};

/** Maps a socket error on an upstream connection to the error code a user should read. */
export const upstreamSocketErrorCode = (err: unknown, connected: boolean): ErrorCode => {
  if (!connected) return 'WEFT_ERR_PROXY_UPSTREAM_CONNECT';
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'ETIMEDOUT') return 'WEFT_ERR_PROXY_UPSTREAM_TIMEOUT';
  return 'WEFT_ERR_PROXY_UPSTREAM_RESET';
};
