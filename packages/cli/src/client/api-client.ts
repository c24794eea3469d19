import type { ResourceKind } from '@weft/api';
import { WeftError } from '@weft/core';
import type { ApiConfig } from './api-config.js';
import { apiErrorOf } from './api-error.js';

/** What an apply (or its dry run) did to one document. */
export interface ApplyResultItem {
  readonly result: 'created' | 'configured' | 'unchanged';
  readonly resource: ApiResource;
}

/** A resource as the API returns it: Kubernetes-shaped JSON, trusted as the server wrote it. */
export interface ApiResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [field: string]: unknown };
  readonly [field: string]: unknown;
}

/** How long one request may take before the CLI gives up. */
const REQUEST_TIMEOUT_MS = 30_000;

const causeCode = (err: unknown): string => {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error && 'code' in cause && typeof cause.code === 'string') return cause.code;
  if (cause instanceof Error) return cause.message;
  return err instanceof Error ? err.message : String(err);
};

/**
 * A small client of the control plane's REST API over Node's global `fetch`. Every call
 * sends the admin token; an error answer becomes an `ApiError` with the API's code and
 * message; a control plane that cannot be reached becomes `WEFT_ERR_API_UNREACHABLE`
 * saying where the CLI looked and what to check. The config is resolved on first use,
 * so that a command can validate its input before it needs the token.
 */
export class ApiClient {
  readonly #config: () => Promise<ApiConfig>;
  #resolved: Promise<ApiConfig> | undefined;

  constructor(config: () => Promise<ApiConfig>) {
    this.#config = config;
  }

  /** Every resource of `kind`, in `namespace` or (undefined) in all. */
  async list(kind: ResourceKind, namespace: string | undefined): Promise<ApiResource[]> {
    const q = kind.namespaced && namespace !== undefined ? `?namespace=${encodeURIComponent(namespace)}` : '';
    const body = (await this.#request('GET', `/api/v1/${kind.plural}${q}`)) as { items?: ApiResource[] };
    return body.items ?? [];
  }

  /** One resource. */
  async get(kind: ResourceKind, namespace: string, name: string): Promise<ApiResource> {
    return (await this.#request('GET', resourcePath(kind, namespace, name))) as ApiResource;
  }

  /** Deletes one resource and returns it as it was. */
  async delete(kind: ResourceKind, namespace: string, name: string): Promise<ApiResource> {
    const body = (await this.#request('DELETE', resourcePath(kind, namespace, name))) as { resource: ApiResource };
    return body.resource;
  }

  /** Applies the documents of one file, all or nothing (`dryRun`: `/validate`, writing nothing). */
  async applyBatch(docs: readonly unknown[], dryRun = false): Promise<ApplyResultItem[]> {
    const body = (await this.#request('POST', dryRun ? '/api/v1/validate' : '/api/v1/apply', docs)) as { results: ApplyResultItem[] };
    return body.results;
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    this.#resolved ??= this.#config();
    const { baseUrl, token } = await this.#resolved;
    const url = `${baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw unreachable(baseUrl, err);
    }
    const text = await res.text().catch((err: unknown) => {
      throw unreachable(baseUrl, err);
    });
    if (!res.ok) throw apiErrorOf(res.status, text);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new WeftError('WEFT_ERR_API_INTERNAL', `${method} ${url}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
}

/** `/api/v1/{plural}/{namespace}/{name}`, or `/api/v1/{plural}/{name}` for cluster-scoped kinds. */
export const resourcePath = (kind: ResourceKind, namespace: string, name: string): string =>
  kind.namespaced ? `/api/v1/${kind.plural}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}` : `/api/v1/${kind.plural}/${encodeURIComponent(name)}`;

const unreachable = (baseUrl: string, err: unknown): WeftError => {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new WeftError('WEFT_ERR_API_UNREACHABLE', `no answer from the control plane at ${baseUrl} within ${REQUEST_TIMEOUT_MS / 1000}s`, { api: baseUrl }, { cause: err });
  }
  return new WeftError(
    'WEFT_ERR_API_UNREACHABLE',
    `cannot reach the control plane at ${baseUrl}: ${causeCode(err)} — is \`weft control-plane\` running? (set --api or WEFT_API to its address)`,
    { api: baseUrl },
    { cause: err },
  );
};
