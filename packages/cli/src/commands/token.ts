import { Option, type Command } from 'commander';
import { isDuration } from '@weft/api';
import { WeftError } from '@weft/core';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { formatAge, renderTable } from '../client/table.js';
import { caApiRequest, type CreatedToken, type TokenItem } from './ca-api.js';

interface CreateFlags extends ApiFlags {
  readonly service: string;
  readonly namespace: string;
  readonly ttl: string;
  readonly singleUse?: boolean;
}

interface ListFlags extends ApiFlags {
  readonly output?: 'json';
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const checkLabel = (flag: string, value: string): void => {
  if (!LABEL.test(value)) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `${flag} ${JSON.stringify(value)}: must be an RFC 1123 label (lowercase letters, digits and "-", at most 63)`, { field: flag });
};

/** What `weft token list` prints per token. */
const tokenTable = (items: readonly TokenItem[], now: Date): string =>
  renderTable(
    ['ID', 'SERVICE', 'NAMESPACE', 'USE', 'STATE', 'EXPIRES', 'AGE'],
    items.map((t) => [t.id, t.service, t.namespace, t.singleUse ? 'once' : 'reusable', t.state, t.expiresAt, formatAge(t.createdAt, now)]),
  );

/**
 * `weft token create|list|revoke`: join tokens, what a proxy presents once
 * (`--token-file` or `WEFT_TOKEN`) to obtain its identity. `create` prints the
 * token alone on stdout, so that `TOKEN=$(weft token create --service web)` works, and
 * what it is on stderr.
 */
export const registerTokenCommand = (program: Command): void => {
  const token = program
    .command('token')
    .description('join tokens: what a proxy presents once to obtain its identity (create, list, revoke)')
    .addHelpText('after', '\nA token admits one service in one namespace. It is reusable until it expires (replicas of a service can share it) unless made --single-use.');

  addApiOptions(
    token
      .command('create')
      .description('make a join token for a service; prints the token alone on stdout, the details on stderr')
      .requiredOption('--service <name>', 'the service the token admits')
      .option('-n, --namespace <ns>', 'its namespace', 'default')
      .option('--ttl <duration>', 'how long the token admits joins, 1m to 2160h (e.g. 30m, 24h)', '1h')
      .option('--single-use', 'admit one join only; by default a token is reusable until it expires'),
  ).action(async (flags: CreateFlags) => {
    checkLabel('--service', flags.service);
    checkLabel('--namespace', flags.namespace);
    if (!isDuration(flags.ttl)) throw new WeftError('WEFT_ERR_CONFIG_INVALID', `--ttl ${flags.ttl}: must be a duration such as 30m, 24h or 1h30m (units h, m, s)`, { field: '--ttl' });
    const config = await resolveApiConfig(flags);
    const created = (await caApiRequest(config, 'POST', '/api/v1/tokens', {
      service: flags.service,
      namespace: flags.namespace,
      ttl: flags.ttl,
      singleUse: flags.singleUse === true,
    })) as CreatedToken;
    process.stdout.write(`${created.token}\n`);
    process.stderr.write(
      `join token ${created.id} for service ${created.service} in namespace ${created.namespace}: ${created.singleUse ? 'admits one join' : 'reusable'} until ${created.expiresAt}\n` +
        `give it to the proxy with --token-file FILE or WEFT_TOKEN; revoke it with: weft token revoke ${created.id}\n`,
    );
  });

  addApiOptions(
    token
      .command('list')
      .description('every join token: id, service, namespace, state and expiry (never the token itself)')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['json'])),
  ).action(async (flags: ListFlags) => {
    const body = (await caApiRequest(await resolveApiConfig(flags), 'GET', '/api/v1/tokens')) as { items?: TokenItem[] };
    const items = body.items ?? [];
    if (flags.output === 'json') {
      process.stdout.write(`${JSON.stringify({ items }, null, 2)}\n`);
      return;
    }
    if (items.length === 0) {
      process.stderr.write('No join tokens.\n');
      return;
    }
    process.stdout.write(tokenTable(items, new Date()));
  });

  addApiOptions(
    token
      .command('revoke')
      .description('revoke a join token: it admits nobody from now on (proxies that joined with it keep their identity)')
      .argument('<id>', 'the token id, as weft token list shows it'),
  ).action(async (id: string, flags: ApiFlags) => {
    const body = (await caApiRequest(await resolveApiConfig(flags), 'DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`)) as { token?: TokenItem };
    process.stdout.write(`join token ${body.token?.id ?? id} revoked (service ${body.token?.service ?? '?'} in namespace ${body.token?.namespace ?? '?'})\n`);
  });
};
