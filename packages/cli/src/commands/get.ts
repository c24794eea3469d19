import { Option, type Command } from 'commander';
import { WeftError } from '@weft/core';
import { stringify } from 'yaml';
import { ApiClient, type ApiResource } from '../client/api-client.js';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { resourceTable } from '../client/columns.js';
import { kindArgument } from '../client/resource-names.js';

interface GetFlags extends ApiFlags {
  readonly namespace?: string;
  readonly allNamespaces?: boolean;
  readonly output?: 'yaml' | 'json' | 'wide';
}

const toYaml = (r: ApiResource): string => stringify(r, { lineWidth: 0 });

/**
 * What `weft get` prints: one resource or a list as a table (default, `-o wide`), as YAML
 * (a list as `---`-separated documents, which `weft apply -f` takes back as they are) or as
 * JSON (a list as `{ kind: List, items }`, as kubectl prints it).
 */
const render = (resources: readonly ApiResource[], single: boolean, flags: GetFlags, table: (wide: boolean) => string): string => {
  switch (flags.output) {
    case 'json':
      return `${JSON.stringify(single ? resources[0] : { apiVersion: 'v1', kind: 'List', items: resources }, null, 2)}\n`;
    case 'yaml':
      return resources.map(toYaml).join('---\n');
    default:
      return table(flags.output === 'wide');
  }
};

/** `weft get KIND [NAME]`: read resources, kubectl-style. */
export const registerGetCommand = (program: Command): void => {
  addApiOptions(
    program
      .command('get')
      .description('show resources: a table, or -o yaml / -o json')
      .argument('<kind>', 'kind, plural, singular or short name: meshes, services (svc), workloads (wl), httproutes (hr), grpcroutes (gr), destinationpolicies (dp), authorizationpolicies (authz), ratelimitpolicies (rlp), faultpolicies (fp)')
      .argument('[name]', 'one resource by name')
      .option('-n, --namespace <ns>', 'namespace (default "default")')
      .option('-A, --all-namespaces', 'list across all namespaces')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json', 'wide'])),
  ).action(async (kindName: string, name: string | undefined, flags: GetFlags) => {
    const kind = kindArgument(kindName);
    if (flags.allNamespaces === true && name !== undefined) throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'a resource is read by name within one namespace: use -n NS, not -A', { field: '-A' });
    const client = new ApiClient(() => resolveApiConfig(flags));
    const namespace = flags.namespace ?? 'default';
    const resources = name !== undefined ? [await client.get(kind, namespace, name)] : await client.list(kind, flags.allNamespaces === true ? undefined : namespace);
    if (resources.length === 0 && flags.output !== 'json') {
      process.stderr.write(kind.namespaced && flags.allNamespaces !== true ? `No resources found in ${namespace} namespace.\n` : 'No resources found.\n');
      return;
    }
    process.stdout.write(render(resources, name !== undefined, flags, (wide) => resourceTable(kind, resources, wide)));
  });
};
