import { registerProxyCommand } from './commands/proxy.js';
import { newProgram, runProgram } from './program.js';

/**
 * `weft proxy` alone: the entry of the sidecar's own bundle (scripts/bundle.mjs). A sidecar
 * runs once per service instance, so what it loads is paid many times over; bundled apart
 * from the other commands, it shares no chunk with them and loads nothing they need (the
 * resource schemas' full zod, the REST client, the control plane).
 */
export const main = async (argv: readonly string[]): Promise<void> => {
  const program = newProgram();
  registerProxyCommand(program);
  await runProgram(program, argv);
};
