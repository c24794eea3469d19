/**
 * gRPC's canonical status names but `OK`, in code order (`CANCELLED` is 1 ... `UNAUTHENTICATED`
 * is 16): what retries, fault aborts and error mappings name. Shared by the resource kinds
 * and the snapshot, so that both spell them the same way.
 */
export const GRPC_STATUS_NAMES = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
