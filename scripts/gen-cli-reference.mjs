// Writes docs/reference/cli.md from the `weft` command's own help, so that the reference
// can never disagree with the flags the CLI accepts. Run after changing a command:
//   node --conditions=weft-source --import tsx scripts/gen-cli-reference.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const { buildProgram } = await import('../packages/cli/src/main.ts');
const program = await buildProgram();
const target = fileURLToPath(new URL('../docs/reference/cli.md', import.meta.url));

let out = '# `weft` command reference\n\n';
out += 'Generated from the CLI itself by `scripts/gen-cli-reference.mjs`; a test fails when it is stale.\n';
out += 'Addresses and credentials are the same in every command: see PRODUCT.md and docs/configuration.md.\n\n';
out += '```\n' + program.helpInformation().trimEnd() + '\n```\n';
for (const cmd of program.commands) {
  out += `\n## weft ${cmd.name()}\n\n${cmd.description()}\n\n`;
  out += '```\n' + cmd.helpInformation().trimEnd() + '\n```\n';
  // Subcommands (`weft authz check`, ...) with their own flags.
  for (const sub of cmd.commands) {
    out += `\n### weft ${cmd.name()} ${sub.name()}\n\n${sub.description()}\n\n`;
    out += '```\n' + sub.helpInformation().trimEnd() + '\n```\n';
  }
}

if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== out) {
    console.error('docs/reference/cli.md is stale: run node --conditions=weft-source --import tsx scripts/gen-cli-reference.mjs');
    process.exit(1);
  }
} else writeFileSync(target, out);
