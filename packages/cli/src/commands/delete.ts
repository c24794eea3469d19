import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { kindArgument, resourceLabel } from '../client/resource-names.js';

interface DeleteFlags extends ApiFlags {
  readonly namespace?: string;
}

/** `weft delete KIND NAME [-n NS]`. */
export const registerDeleteCommand = (program: Command): void => {
  addApiOptions(
    program
      .command('delete')
      .description('delete a resource')
      .argument('<kind>', 'kind, plural, singular or short name (e.g. httproutes, hr)')
      .argument('<name>', 'name of the resource')
      .option('-n, --namespace <ns>', 'namespace (default "default")'),
  ).action(async (kindName: string, name: string, flags: DeleteFlags) => {
    const kind = kindArgument(kindName);
    const client = new ApiClient(() => resolveApiConfig(flags));
    const deleted = await client.delete(kind, flags.namespace ?? 'default', name);
    process.stdout.write(`${resourceLabel(kind, deleted.metadata.namespace, deleted.metadata.name)} deleted\n`);
  });
};
