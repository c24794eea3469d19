import type { Command } from 'commander';
import { WeftError } from '@weft/core';
import { localFileError } from '../client/file-messages.js';
import { expandSources, parseResourceFile } from '../client/resource-files.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * `weft validate -f FILE|DIR|-`: the validation of `weft apply`, offline (no control plane,
 * no token), for CI pipelines and GitOps. Prints every problem as `file:line:col: field:
 * rule`; exits 1 if any document of any file is invalid.
 */
export const registerValidateCommand = (program: Command): void => {
  program
    .command('validate')
    .description('validate resource files offline, as weft apply would (exit 1 if any is invalid)')
    .option('-f, --filename <path>', 'a file, a directory (its *.yaml, *.yml and *.json files) or - for stdin; repeatable', collect, [])
    .action(async (flags: { filename: string[] }) => {
      if (flags.filename.length === 0) throw new WeftError('WEFT_ERR_CONFIG_INVALID', 'validate needs -f FILE, -f DIR or -f - (stdin)', { field: '-f' });
      let ok = true;
      for (const src of await expandSources(flags.filename)) {
        try {
          const file = parseResourceFile(await src.read(), src.name);
          const n = file.resources.length;
          process.stdout.write(`${src.name}: ${n} ${n === 1 ? 'resource' : 'resources'} valid\n`);
        } catch (err) {
          const message = localFileError(src.name, err);
          if (message === undefined) throw err;
          process.stderr.write(message.replace(/nothing applied\n$/, 'nothing would be applied\n'));
          ok = false;
        }
      }
      process.exitCode = ok ? 0 : 1;
    });
};
