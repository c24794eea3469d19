import type { Command } from 'commander';
import { stringify } from 'yaml';
import { WeftError } from '@weft/core';
import { addApiOptions, resolveApiConfig, type ApiConfig, type ApiFlags } from '../client/api-config.js';
import { apiGet, fetchMeshStatus, type ProxyState } from '../run/mesh-status.js';

interface ProxyConfigFlags extends ApiFlags {
  readonly namespace: string;
  readonly output?: string;
  readonly admin?: string;
}

/** What is known of one proxy of the service. */
interface ProxyConfigView {
  readonly workload: string;
  readonly namespace: string;
  readonly service: string;
  readonly remoteAddress: string;
  readonly connectedAt: string;
  readonly sentVersion: string | null;
  readonly ackedVersion: string | null;
  readonly inSync: boolean;
  readonly lastNack: NonNullable<ProxyState['nack']> | null;
  /** The effective snapshot from the proxy's admin `/config`, or null with `snapshotNote` saying why. */
  readonly snapshot: unknown;
  readonly snapshotNote?: string;
}

/**
 * The snapshot the control plane sends one proxy: what the proxy runs when it is in sync.
 * When it is not, the note says which version the proxy still runs.
 */
const controlPlaneSnapshot = async (config: ApiConfig, p: ProxyState): Promise<{ snapshot: unknown; note?: string }> => {
  try {
    const body = (await apiGet(config, `/api/v1/proxies/${encodeURIComponent(p.namespace)}/${encodeURIComponent(p.workload)}/snapshot`)) as {
      version?: string;
      ackedVersion?: string | null;
      inSync?: boolean;
      snapshot?: unknown;
    };
    if (body.inSync === true) return { snapshot: body.snapshot ?? null };
    return {
      snapshot: body.snapshot ?? null,
      note: `this is version ${body.version ?? '?'}, being sent; the proxy still runs ${body.ackedVersion ?? 'no acknowledged version'}`,
    };
  } catch (err) {
    return { snapshot: null, note: `the control plane did not give the snapshot: ${err instanceof Error ? err.message : String(err)}` };
  }
};

/** The proxy's running config from its admin `/config`, or a note on why not. */
const adminConfig = async (adminUrl: string): Promise<{ snapshot: unknown; note?: string }> => {
  try {
    const res = await fetch(`${adminUrl.replace(/\/+$/, '')}/config`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return { snapshot: null, note: `${adminUrl}/config answered HTTP ${res.status}` };
    return { snapshot: (await res.json()) as unknown };
  } catch (err) {
    return { snapshot: null, note: `${adminUrl}/config is not reachable (${err instanceof Error ? err.message : String(err)}); showing what the control plane knows` };
  }
};

/** `weft proxy-config SERVICE`: the config version each proxy of a service was sent and acknowledged, and what it runs. */
export const registerProxyConfigCommand = (program: Command): void => {
  addApiOptions(
    program
      .command('proxy-config')
      .description('the config versions each proxy of a service was sent and acknowledged, any refusal, and its effective snapshot')
      .argument('<service>', 'the service')
      .option('-n, --namespace <ns>', 'namespace of the service', 'default')
      .option('-o, --output <format>', 'yaml or json (default: text)')
      .option('--admin <url>', "a proxy's admin address (e.g. http://127.0.0.1:15000) to read its running snapshot from /config"),
  ).action(async (service: string, flags: ProxyConfigFlags) => {
    if (flags.output !== undefined && flags.output !== 'yaml' && flags.output !== 'json') {
      throw new WeftError('WEFT_ERR_CONFIG_INVALID', `-o ${flags.output}: must be yaml or json`, { field: '--output' });
    }
    const config = await resolveApiConfig(flags);
    const status = await fetchMeshStatus(config);
    const proxies = status.items.filter((p) => p.service === service && p.namespace === flags.namespace);
    const admin = flags.admin;
    const views: ProxyConfigView[] = [];
    for (const p of proxies) {
      // --admin reads one proxy's own /config; otherwise the control plane says what it sends.
      const found = admin !== undefined && proxies.length === 1 ? await adminConfig(admin) : await controlPlaneSnapshot(config, p);
      views.push({
      workload: p.workload,
      namespace: p.namespace,
      service: p.service,
      remoteAddress: p.remoteAddress,
      connectedAt: p.connectedAt,
      sentVersion: p.sentVersion ?? null,
      ackedVersion: p.ackedVersion ?? null,
      inSync: p.inSync,
      lastNack: p.nack ?? null,
      snapshot: found.snapshot,
      ...(found.note === undefined ? {} : { snapshotNote: found.note }),
      });
    }
    if (flags.output === 'json') process.stdout.write(`${JSON.stringify({ items: views }, null, 2)}\n`);
    else if (flags.output === 'yaml') process.stdout.write(stringify({ items: views }));
    else if (views.length === 0) process.stdout.write(`no connected proxy of service ${flags.namespace}/${service}\n`);
    else {
      for (const v of views) {
        process.stdout.write(`${v.namespace}/${v.workload} (${v.remoteAddress}, connected ${v.connectedAt})\n`);
        process.stdout.write(`  sent ${v.sentVersion ?? '-'}, acknowledged ${v.ackedVersion ?? '-'}, ${v.inSync ? 'in sync' : 'NOT in sync'}\n`);
        if (v.lastNack !== null) process.stdout.write(`  last refused ${v.lastNack.version} at ${v.lastNack.at}: ${v.lastNack.error}\n`);
        if (v.snapshotNote !== undefined) process.stdout.write(`  snapshot: ${v.snapshotNote}\n`);
        if (v.snapshot !== null) process.stdout.write(stringify({ snapshot: v.snapshot }).replace(/^/gm, '  '));
      }
    }
    if (views.length === 0) process.exitCode = 1;
  });
};
