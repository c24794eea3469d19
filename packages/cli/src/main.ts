import { Command, CommanderError } from 'commander';
import { WeftError } from '@weft/core';

type Registrar = (program: Command) => void;

/**
 * Every subcommand, loaded on demand. A command runs with only its own modules loaded: a
 * sidecar (`weft proxy`, one per service instance) must not pay for the resource schemas,
 * the REST client or the control plane in its memory.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Registrar>>> = {
  proxy: async () => (await import('./commands/proxy.js')).registerProxyCommand,
  demo: async () => (await import('./commands/demo.js')).registerDemoCommand,
  'control-plane': async () => (await import('./commands/control-plane.js')).registerControlPlaneCommand,
  apply: async () => (await import('./commands/apply.js')).registerApplyCommand,
  get: async () => (await import('./commands/get.js')).registerGetCommand,
  delete: async () => (await import('./commands/delete.js')).registerDeleteCommand,
  validate: async () => (await import('./commands/validate.js')).registerValidateCommand,
  run: async () => (await import('./commands/run.js')).registerRunCommand,
  check: async () => (await import('./commands/check.js')).registerCheckCommand,
  'proxy-config': async () => (await import('./commands/proxy-config.js')).registerProxyConfigCommand,
  token: async () => (await import('./commands/token.js')).registerTokenCommand,
  ca: async () => (await import('./commands/ca.js')).registerCaCommand,
  authz: async () => (await import('./commands/authz.js')).registerAuthzCommand,
};

/**
 * Builds the `weft` program: with `command`, only that subcommand (what running it needs);
 * without, every subcommand (for help and unknown-command errors).
 */
export const buildProgram = async (command?: string): Promise<Command> => {
  const program = new Command('weft')
    .description('Weft: a service mesh for any service, with or without Kubernetes')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const load = command !== undefined && command in COMMANDS ? [COMMANDS[command]] : Object.values(COMMANDS);
  for (const registrar of load) if (registrar !== undefined) (await registrar())(program);
  return program;
};

/**
 * Runs the CLI. A WeftError is printed as `error CODE: message` (the message names file,
 * line and field where it can) and exits 1; usage errors exit 2.
 */
export const main = async (argv: readonly string[]): Promise<void> => {
  const program = await buildProgram(argv[0]);
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
