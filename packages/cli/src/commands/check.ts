import type { Command } from 'commander';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { checkCa } from '../run/ca-check.js';
import { certificateCheck } from '../run/certificate-check.js';
import { apiGet, fetchMeshStatus } from '../run/mesh-status.js';

/** One line of the checklist. */
interface CheckLine {
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly text: string;
}

const MARK: Readonly<Record<CheckLine['status'], string>> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * The checklist: control plane reachable; every root and intermediate of its CA valid
 * (a warning within 30 days of expiry, which does not fail the check); every connected proxy in sync, with the error of any
 * refused (NACKed) version; every registered workload connected and serving.
 */
export const runChecks = async (flags: ApiFlags): Promise<CheckLine[]> => {
  const lines: CheckLine[] = [];
  let config;
  try {
    config = await resolveApiConfig(flags);
    await apiGet(config, '/api/v1/health');
    lines.push({ status: 'ok', text: `control plane reachable at ${config.baseUrl}` });
  } catch (err) {
    lines.push({ status: 'fail', text: `control plane: ${errorText(err)}` });
    return lines;
  }
  lines.push(...(await checkCa(config)));
  let status;
  try {
    status = await fetchMeshStatus(config);
  } catch (err) {
    lines.push({ status: 'fail', text: `proxies: ${errorText(err)}` });
    return lines;
  }
  lines.push({ status: 'ok', text: `${status.items.length} prox${status.items.length === 1 ? 'y' : 'ies'} connected` });
  for (const p of status.items) {
    const who = `proxy ${p.namespace}/${p.workload} (service ${p.service})`;
    if (p.inSync) lines.push({ status: 'ok', text: `${who} in sync at version ${p.ackedVersion ?? '?'}` });
    else lines.push({ status: 'fail', text: `${who} not in sync: sent ${p.sentVersion ?? 'nothing yet'}, acknowledged ${p.ackedVersion ?? 'nothing'}` });
    if (p.nack !== undefined) lines.push({ status: 'fail', text: `${who} refused version ${p.nack.version} at ${p.nack.at}: ${p.nack.error}` });
    const cert = certificateCheck(who, p.certificate, Date.now());
    if (cert !== undefined) lines.push(cert);
  }
  for (const w of status.workloads) {
    if (w.state === 'connected' && w.serving) continue;
    lines.push({ status: 'fail', text: `workload ${w.namespace}/${w.name} (service ${w.service}) is ${w.state}${w.serving ? '' : ', not serving'}` });
  }
  return lines;
};

/** `weft check`: preflight and health of the mesh; exit 0 when all is well, 1 otherwise. */
export const registerCheckCommand = (program: Command): void => {
  addApiOptions(program.command('check').description('check the control plane, its CA and every proxy: connected, in sync, healthy')).action(
    async (flags: ApiFlags) => {
      const lines = await runChecks(flags);
      for (const l of lines) process.stdout.write(`${MARK[l.status]} ${l.text}\n`);
      const failed = lines.filter((l) => l.status === 'fail').length;
      process.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check${failed === 1 ? '' : 's'} failed\n`);
      process.exitCode = failed === 0 ? 0 : 1;
    },
  );
};
