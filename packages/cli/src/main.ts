import type { Command } from 'commander';
import { newProgram, runProgram } from './program.js';

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
  const program = newProgram();
  const load = command !== undefined && command in COMMANDS ? [COMMANDS[command]] : Object.values(COMMANDS);
  for (const registrar of load) if (registrar !== undefined) (await registrar())(program);
  return program;
};

/** Runs the CLI (see {@link runProgram} for how errors end). */
export const main = async (argv: readonly string[]): Promise<void> => runProgram(await buildProgram(argv[0]), argv);

// Run when executed directly (tests start the sources with tsx).
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  void main(process.argv.slice(2));
}
