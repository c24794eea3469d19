import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WeftError } from '@weft/core';
import { tokenFile, type DemoPaths, type MeshPlan } from './plan.js';

/** A POST to the demo's control plane with its admin token; the JSON answer, or an error naming the path. */
const post = async (api: number, token: string, path: string, body: unknown): Promise<unknown> => {
  const res = await fetch(`http://127.0.0.1:${api}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new WeftError('WEFT_ERR_API_BAD_REQUEST', `the demo's control plane refused POST ${path} (${res.status}): ${text.slice(0, 500)}`, { path });
  return JSON.parse(text) as unknown;
};

/**
 * Gives the demo's control plane the mesh (`weft apply` of the plan's resources, also
 * written to `mesh-resources.yaml` for reading) and makes one join token per service
 * (`weft token create`), each in a file of mode 0600 that the sidecars of that service read.
 */
export const configureControlPlane = async (paths: DemoPaths, plan: MeshPlan, apiPort: number): Promise<void> => {
  const admin = (await readFile(join(paths.controlPlane, 'admin-token'), 'utf8')).trim();
  await writeFile(paths.resources, `# What \`weft demo\` applied to its control plane, from examples/demo/mesh.yaml.\n${plan.resources.map((r) => stringify(r)).join('---\n')}`);
  await post(apiPort, admin, '/api/v1/apply', plan.resources);
  await mkdir(paths.tokens, { recursive: true, mode: 0o700 });
  for (const service of plan.tokenServices) {
    const created = (await post(apiPort, admin, '/api/v1/tokens', { service, namespace: plan.namespace, ttl: '1h' })) as { token?: unknown };
    if (typeof created.token !== 'string') throw new WeftError('WEFT_ERR_API_BAD_REQUEST', `the demo's control plane made no join token for ${service}`, {});
    const file = tokenFile(paths, service);
    await writeFile(file, `${created.token}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
};
