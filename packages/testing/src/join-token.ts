import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a running control plane is: its REST port and its data dir (which holds the admin token). */
export interface ControlPlaneRef {
  readonly apiPort: number;
  readonly dataDir: string;
}

/**
 * Creates a join token on a running control plane through its REST API, as
 * `weft token create` does: what a test's proxies need to join the mesh.
 */
export const createJoinToken = async (
  cp: ControlPlaneRef,
  service: string,
  options: { readonly namespace?: string; readonly ttl?: string; readonly singleUse?: boolean } = {},
): Promise<string> => {
  const admin = (await readFile(join(cp.dataDir, 'admin-token'), 'utf8')).trim();
  const res = await fetch(`http://127.0.0.1:${cp.apiPort}/api/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service, ...options }),
  });
  const body = (await res.json()) as { token?: string; message?: string };
  if (res.status !== 201 || body.token === undefined) throw new Error(`creating a join token for ${service} failed: ${res.status} ${body.message ?? ''}`);
  return body.token;
};
