import { Command, CommanderError } from 'commander';
import { WeftError } from '@weft/core';
import { registerProxyCommand } from './commands/proxy.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerGetCommand } from './commands/get.js';
import { registerDeleteCommand } from './commands/delete.js';
import { registerValidateCommand } from './commands/validate.js';

/** Builds the `weft` program with every subcommand. */
export const buildProgram = (): Command => {
  const program = new Command('weft')
    .description('Weft: a service mesh for any service, with or without Kubernetes')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerProxyCommand(program);
  registerDemoCommand(program);
  registerApplyCommand(program);
  registerGetCommand(program);
  registerDeleteCommand(program);
  registerValidateCommand(program);
  return program;
};

/**
 * Runs the CLI. A WeftError is printed as `error CODE: message` (the message names file,
 * line and field where it can) and exits 1; usage errors exit 2.
 */
export const main = async (argv: readonly string[]): Promise<void> => {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof WeftError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
};

// Run when executed directly (tests start the sources with tsx).
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  void main(process.argv.slice(2));
}
