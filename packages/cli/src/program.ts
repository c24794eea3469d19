import { Command, CommanderError } from 'commander';
import { WeftError } from '@weft/core';

/** The bare `weft` program, before any subcommand is registered. */
export const newProgram = (): Command =>
  new Command('weft')
    .description('Weft: a service mesh for any service, with or without Kubernetes')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();

/**
 * Parses `argv` with `program` and runs the command. A WeftError is printed as
 * `error CODE: message` (the message names file, line and field where it can) and exits 1;
 * usage errors exit 2.
 */
export const runProgram = async (program: Command, argv: readonly string[]): Promise<void> => {
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
