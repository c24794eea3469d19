// Bundles the `weft` command into packages/cli/bundle/ (ESM, split into chunks loaded on
// demand). A sidecar is one process per service instance, so what it loads at start is
// paid for many times over: one minified bundle loads in a fraction of the memory of the
// hundreds of modules it is made of (see docs/benchmarks.md, memory), and each command
// loads only its own chunks.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}packages/cli/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  // csr-child runs in a child process of the sidecar at certificate issuance, next to the
  // chunk that spawns it (see packages/proxy/src/identity/key-and-csr.ts).
  entryPoints: { main: `${root}packages/cli/src/main.ts`, 'csr-child': `${root}packages/proxy/src/identity/csr-child.ts` },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  conditions: ['weft-source'],
  // Some dependencies are CommonJS and call require(); give ESM output a real one.
  banner: { js: "import { createRequire as __weftRequire } from 'node:module'; const require = __weftRequire(import.meta.url);" },
  logLevel: 'warning',
});
