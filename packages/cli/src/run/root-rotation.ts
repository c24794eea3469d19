import { WeftError } from '@weft/core';
import type { ApiConfig } from '../client/api-config.js';
import { caApiRequest, type CaView } from '../commands/ca-api.js';
import { fetchMeshStatus, type ProxyState } from './mesh-status.js';

/** Options of {@link rotateRoot}. */
export interface RootRotationOptions {
  /** How long to wait for the proxies at each step before giving up (the rotation stays where it is). */
  readonly waitMs: number;
  readonly pollMs?: number;
  /** One progress line. */
  readonly say: (line: string) => void;
}

const who = (p: ProxyState): string => `${p.namespace}/${p.workload}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A whole root rotation, resumable from whatever phase the CA is in: introduce the new root
 * and wait until every connected proxy has acknowledged the config that trusts it; activate
 * it and wait until every connected proxy reports a certificate that chains to it (they
 * renew as soon as their config names the new signer); retire the old root and wait until
 * every proxy runs without it. No proxy ever meets a peer whose certificate it cannot
 * verify. A registered proxy whose stream is down but whose endpoint still serves (within
 * its grace period) is waited for; one withdrawn gets the current bundle when it returns.
 */
export const rotateRoot = async (config: ApiConfig, o: RootRotationOptions): Promise<CaView> => {
  let view = (await caApiRequest(config, 'GET', '/api/v1/ca')) as CaView;
  if (view.mode !== 'self-managed') {
    throw new WeftError('WEFT_ERR_CA_ROTATION_UNSUPPORTED', 'a plug-in CA is rotated by replacing its files (your organisation issues the new intermediate)', {});
  }
  const step = async (name: 'introduce' | 'activate' | 'retire'): Promise<void> => {
    view = (await caApiRequest(config, 'POST', '/api/v1/ca/rotation', { step: name })) as CaView;
    o.say(`${name}: done (phase ${view.rotation.phase})`);
  };
  const waitFor = async (what: string, behind: (p: ProxyState) => boolean): Promise<void> => {
    const deadline = Date.now() + o.waitMs;
    for (;;) {
      const { items, workloads } = await fetchMeshStatus(config);
      // A proxy whose stream is down for a moment (its endpoint still serving) is waited for:
      // skipping it could retire the root its certificate still chains to.
      const away = workloads.filter((w) => w.serving && !items.some((p) => p.namespace === w.namespace && p.workload === w.name));
      const late = [...items.filter(behind).map(who), ...away.map((w) => `${w.namespace}/${w.name} (reconnecting)`)];
      if (late.length === 0) {
        o.say(`${what}: all ${items.length} connected prox${items.length === 1 ? 'y' : 'ies'}`);
        return;
      }
      if (Date.now() > deadline) {
        throw new WeftError(
          'WEFT_ERR_CA_ROTATION_WAIT',
          `after ${o.waitMs} ms, ${late.length} prox${late.length === 1 ? 'y has' : 'ies have'} not ${what}: ${late.slice(0, 10).join(', ')}${late.length > 10 ? ', ...' : ''}. The rotation stays in phase ${view.rotation.phase}; run weft ca rotate again to go on.`,
          {},
        );
      }
      await sleep(o.pollMs ?? 250);
    }
  };
  if (view.rotation.phase === 'idle') await step('introduce');
  if (view.rotation.phase === 'introduced') {
    await waitFor('acknowledged the config that trusts the new root', (p) => !p.inSync);
    await step('activate');
  }
  const signer = view.rotation.roots.find((r) => r.signing)?.caHash;
  await waitFor('acknowledged the config that names the new signing root', (p) => !p.inSync);
  await waitFor('renewed their certificate with the new root', (p) => p.certificate?.signerHash !== signer);
  await step('retire');
  await waitFor('acknowledged the config without the old root', (p) => !p.inSync);
  return view;
};
