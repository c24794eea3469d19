import { Option, type Command } from 'commander';
import { WeftError } from '@weft/core';
import { stringify } from 'yaml';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { renderTable } from '../client/table.js';
import { caApiRequest, type CaView } from './ca-api.js';

interface ShowFlags extends ApiFlags {
  readonly output?: 'json' | 'yaml';
  readonly bundle?: boolean;
}

interface RotateFlags extends ApiFlags {
  readonly step?: 'introduce' | 'activate' | 'retire';
  readonly wait: string;
}

/** Expiries closer than this are marked, as `weft check` warns about them. */
const WARN_DAYS = 30;

/** A hash short enough for a table, long enough to tell roots apart. */
const shortHash = (h: string): string => `${h.slice(0, 'sha256:'.length + 16)}…`;

/** What `weft ca show` prints: the CA at a glance, then every CA certificate's expiry. */
const render = (ca: CaView): string => {
  const signing = ca.rotation.roots.find((r) => r.signing);
  const lines = [
    `mode:          ${ca.mode}`,
    `trust domain:  ${ca.trustDomain}`,
    `CA hash:       ${ca.caHash}`,
    `trust bundle:  ${ca.trustBundle.length} root${ca.trustBundle.length === 1 ? '' : 's'}${ca.caHashes.length > 1 ? ` (${ca.caHashes.map(shortHash).join(', ')})` : ''}`,
    `rotation:      ${ca.rotation.phase}${signing === undefined ? '' : `, new certificates chain to ${shortHash(signing.caHash)}`}`,
    '',
  ];
  const table = renderTable(
    ['ROLE', 'SUBJECT', 'CA HASH', 'SIGNING', 'EXPIRES', 'DAYS LEFT'],
    ca.expiries.map((e) => [e.role, e.subject, shortHash(e.caHash), e.signing ? 'yes' : 'no', e.notAfter, `${e.daysLeft}${e.daysLeft < WARN_DAYS ? (e.daysLeft < 0 ? ' EXPIRED' : ' EXPIRES SOON') : ''}`]),
  );
  return `${lines.join('\n')}\n${table}`;
};

/** What to do after each step. */
const NEXT_STEP: Readonly<Record<CaView['rotation']['phase'], string>> = {
  introduced: 'the new root is trusted but does not sign yet. Once every proxy has the new trust bundle, run: weft ca rotate --step activate',
  activated: 'the new root signs; the old one is still trusted. Once every workload certificate has been renewed by the new root, run: weft ca rotate --step retire',
  idle: 'the trust bundle holds one root, which signs.',
};

/** `weft ca show` and `weft ca rotate --step STEP`: the mesh's certificate authority. */
export const registerCaCommand = (program: Command): void => {
  const ca = program.command('ca').description("the mesh's certificate authority: show it, rotate its root (show, rotate)");

  addApiOptions(
    ca
      .command('show')
      .description('the CA: its hash (what join tokens pin), trust bundle, rotation phase, and every root and intermediate with its expiry')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['json', 'yaml']))
      .option('--bundle', 'print the trust bundle alone, as PEM (for openssl verify -CAfile, or a client that calls into the mesh)'),
  ).action(async (flags: ShowFlags) => {
    const view = (await caApiRequest(await resolveApiConfig(flags), 'GET', '/api/v1/ca')) as CaView;
    if (flags.bundle === true) process.stdout.write(view.trustBundle.join(''));
    else if (flags.output === 'json') process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else if (flags.output === 'yaml') process.stdout.write(stringify(view, { lineWidth: 0 }));
    else process.stdout.write(render(view));
  });

  addApiOptions(
    ca
      .command('rotate')
      .description(
        'rotate a self-managed root: introduce (new root trusted), activate (new root signs), retire (old root untrusted), waiting between steps until every connected proxy has the new bundle and then a new certificate; --step takes one step only',
      )
      .addOption(new Option('--step <step>', 'take this step only').choices(['introduce', 'activate', 'retire']))
      .option('--wait <ms>', 'how long to wait for the proxies at each step', '600000'),
  ).action(async (flags: RotateFlags) => {
    const config = await resolveApiConfig(flags);
    if (flags.step === undefined) {
      const waitMs = Number(flags.wait);
      if (!Number.isInteger(waitMs) || waitMs <= 0) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--wait ${flags.wait}: must be a positive number of ms`, { field: '--wait' });
      const { rotateRoot } = await import('../run/root-rotation.js');
      const done = await rotateRoot(config, { waitMs, say: (line) => process.stderr.write(`${line}\n`) });
      process.stdout.write(`rotation done: new certificates chain to ${done.caHash}\n`);
      return;
    }
    const view = (await caApiRequest(config, 'POST', '/api/v1/ca/rotation', { step: flags.step })) as CaView;
    process.stdout.write(`rotation: ${view.rotation.phase}\n`);
    for (const r of view.rotation.roots) process.stdout.write(`  root ${r.caHash}${r.signing ? ' (signing)' : ''}, until ${r.notAfter}\n`);
    process.stderr.write(`${NEXT_STEP[view.rotation.phase]}\n`);
  });
};
