import type { Command } from 'commander';
import { WeftError } from '@weft/core';
import { ApiClient } from '../client/api-client.js';
import { addApiOptions, resolveApiConfig, type ApiFlags } from '../client/api-config.js';
import { ApiError } from '../client/api-error.js';
import { localFileError, serverFileError } from '../client/file-messages.js';
import { expandSources, parseResourceFile, type ResourceFile, type ResourceSource } from '../client/resource-files.js';
import { kindArgument, resourceLabel } from '../client/resource-names.js';

interface ApplyFlags extends ApiFlags {
  readonly filename: string[];
  readonly dryRun?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Errors after which no other file can succeed either: stop at once. */
const isFatal = (err: ApiError): boolean => err.code === 'WEFT_ERR_API_UNAUTHORIZED';

/** Parses `src` locally; on failure prints why and returns undefined. */
const readFile = async (src: ResourceSource): Promise<ResourceFile | undefined> => {
  try {
    const file = parseResourceFile(await src.read(), src.name);
    if (file.documents.length === 0) process.stderr.write(`${src.name}: holds no resources, nothing applied\n`);
    return file.documents.length === 0 ? undefined : file;
  } catch (err) {
    const message = localFileError(src.name, err);
    if (message === undefined) throw err;
    process.stderr.write(message);
    return undefined;
  }
};

/** Applies one file all or nothing; prints each resource's result, or why nothing was applied. */
const applyFile = async (client: ApiClient, src: ResourceSource, dryRun: boolean): Promise<boolean> => {
  const file = await readFile(src);
  if (file === undefined) return false;
  try {
    const results = await client.applyBatch(file.documents, dryRun);
    for (const r of results) {
      const kind = kindArgument(r.resource.kind);
      process.stdout.write(`${resourceLabel(kind, r.resource.metadata.namespace, r.resource.metadata.name)} ${r.result}${dryRun ? ' (dry run)' : ''}\n`);
    }
    return true;
  } catch (err) {
    if (!(err instanceof ApiError) || isFatal(err)) throw err;
    process.stderr.write(serverFileError(file, err));
    return false;
  }
};

/** `weft apply -f FILE|DIR|-`: declarative config, each file all or nothing. */
export const registerApplyCommand = (program: Command): void => {
  addApiOptions(
    program
      .command('apply')
      .description('create or update resources from YAML/JSON files; each file is applied all or nothing')
      .option('-f, --filename <path>', 'a file, a directory (its *.yaml, *.yml and *.json files, in name order) or - for stdin; repeatable', collect, [])
      .option('--dry-run', 'validate on the control plane and show what would change, without changing anything'),
  ).action(async (flags: ApplyFlags) => {
    if (flags.filename.length === 0) throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'apply needs -f FILE, -f DIR or -f - (stdin)', { field: '-f' });
    const client = new ApiClient(() => resolveApiConfig(flags));
    let ok = true;
    for (const src of await expandSources(flags.filename)) ok = (await applyFile(client, src, flags.dryRun === true)) && ok;
    process.exitCode = ok ? 0 : 1;
  });
};
