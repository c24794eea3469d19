import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the CLI finds its own files. The same code runs from the TypeScript sources (tests),
 * from `dist/` and from the esbuild bundle, each at a different depth, so paths are found by
 * looking upwards rather than by counting `..`.
 */

/** The nearest directory at or above `from` (a module URL) that holds `relative`. */
export const findUp = (from: string, relative: string): string | undefined => {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
};

/**
 * The script this process was started with (the `weft` bin, or `src/main.ts` under tsx):
 * what to run again, with `process.execArgv`, to start another `weft` command.
 */
export const cliEntry = (): string => resolve(process.argv[1] ?? 'weft');
