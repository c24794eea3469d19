import { apiErrorOf } from '../client/api-error.js';
import type { ApiConfig } from '../client/api-config.js';
import type { ProxySyncState, RegistryEntryView } from '@weft/control-plane';
import { WeftError } from '@weft/core';

/**
 * One connected proxy's sync state, and one registered workload, as `GET /api/v1/proxies`
 * reports them: the control plane's own types (type-only: nothing of it is loaded here).
 */
export type ProxyState = ProxySyncState;
export type WorkloadState = RegistryEntryView;

/** The answer of `GET /api/v1/proxies`. */
export interface MeshStatus {
  readonly items: readonly ProxyState[];
  readonly workloads: readonly WorkloadState[];
}

/** GET `path` of the REST API with the admin token; an error answer becomes an ApiError. */
export const apiGet = async (config: ApiConfig, path: string): Promise<unknown> => {
  let res: Response;
  try {
    res = await fetch(`${config.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${config.token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new WeftError('WEFT_ERR_API_UNREACHABLE', `cannot reach the control plane at ${config.baseUrl}: ${why}`, { api: config.baseUrl }, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw apiErrorOf(res.status, text);
  return JSON.parse(text) as unknown;
};

/** Every connected proxy and registered workload. */
export const fetchMeshStatus = async (config: ApiConfig): Promise<MeshStatus> => {
  const body = (await apiGet(config, '/api/v1/proxies')) as Partial<MeshStatus>;
  return { items: body.items ?? [], workloads: body.workloads ?? [] };
};
