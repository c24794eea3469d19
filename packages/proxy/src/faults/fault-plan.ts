import { SnapshotGrpcStatusSchema, type RouteFault } from '@weft/api/data-plane';
import { ProxyError, type HopRef } from '../errors/proxy-error.js';
import type { Random } from '../resilience/clock.js';

/** What a fault does to one request: hold it for `delayMs` (0: not at all), then end it with `abort`, or forward it. */
export interface FaultPlan {
  readonly delayMs: number;
  readonly abort: ProxyError | undefined;
}

export const NO_FAULT: FaultPlan = Object.freeze({ delayMs: 0, abort: undefined });

/** gRPC status numbers by name: the snapshot lists the canonical codes in order from CANCELLED (1). */
const GRPC_CODE = new Map<string, number>(SnapshotGrpcStatusSchema.options.map((name, i) => [name, i + 1]));

/** Whether a request falls in a `percentage` share (0 to 100, fractions allowed): one draw each. */
const inShare = (percentage: number, random: Random): boolean => percentage >= 100 || (percentage > 0 && random() * 100 < percentage);

/**
 * Decides the faults of one request, with an independent draw for the delay and for the
 * abort, as Envoy's fault filter does (so a request may be delayed and then aborted). An
 * abort answers with the policy's `httpStatus`; a gRPC call gets the policy's `grpcStatus`
 * (or, when the policy names only an HTTP status, the gRPC status that HTTP status maps to),
 * and a plain HTTP request to a policy that names only a gRPC status gets 503.
 */
export const planFault = (fault: RouteFault, random: Random, hop: HopRef): FaultPlan => {
  const delayMs = fault.delay !== undefined && inShare(fault.delay.percentage, random) ? fault.delay.fixedDelayMs : 0;
  const a = fault.abort;
  if (a === undefined || !inShare(a.percentage, random)) return delayMs === 0 ? NO_FAULT : { delayMs, abort: undefined };
  const grpcStatus = a.grpcStatus === undefined ? undefined : GRPC_CODE.get(a.grpcStatus);
  const what = a.httpStatus !== undefined ? `HTTP ${a.httpStatus}` : `gRPC ${a.grpcStatus ?? ''}`;
  const abort = new ProxyError('WEFT_ERR_PROXY_FAULT_ABORT', `FaultPolicy ${fault.policy} aborted the request with ${what} (fault injection)`, hop, {
    extras: {
      ...(a.httpStatus === undefined ? {} : { status: a.httpStatus }),
      ...(grpcStatus === undefined ? {} : { grpcStatus }),
    },
  });
  return { delayMs, abort };
};
