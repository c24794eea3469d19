// Bundles the `weft` command into packages/cli/bundle/ (ESM, split into chunks loaded on
// demand). A sidecar is one process per service instance, so what it loads at start is
// paid for many times over: one minified bundle loads in a fraction of the memory of the
// hundreds of modules it is made of (see docs/benchmarks.md, memory), and each command
// loads only its own chunks.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--outdir DIR` builds elsewhere, to compare a candidate with the installed bundle.
const outdirArg = process.argv.indexOf('--outdir');
const outdir = outdirArg > 0 ? process.argv[outdirArg + 1] : `${root}packages/cli/bundle`;
rmSync(outdir, { recursive: true, force: true });
// `node:tls` through require(), not as an ES module: Node builds an ES module view of a
// built-in by reading every export, and reading `tls.rootCertificates` materialises all of
// Node's root certificates as strings, about 0.3 MB that a sidecar (which trusts only its
// mesh's CA) never uses. esbuild's CommonJS interop reads exports only when used.
const tlsThroughRequire = {
  name: 'tls-through-require',
  setup(b) {
    b.onResolve({ filter: /^(node:)?tls$/ }, (args) =>
      // The require() inside the wrapper is the real built-in.
      args.namespace === 'tls-through-require' ? { path: 'node:tls', external: true } : { path: 'node:tls', namespace: 'tls-through-require' },
    );
    b.onLoad({ filter: /.*/, namespace: 'tls-through-require' }, () => ({ contents: "module.exports = require('node:tls');", loader: 'js' }));
  },
};

const common = {
  plugins: [tlsThroughRequire],
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
};
// csr-child runs in a child process of the sidecar at certificate issuance, next to the
// chunk that spawns it (see packages/proxy/src/identity/key-and-csr.ts).
const csrChild = `${root}packages/proxy/src/identity/csr-child.ts`;
await build({ ...common, entryPoints: { main: `${root}packages/cli/src/main.ts`, 'csr-child': csrChild }, outdir });
// The sidecar (`weft proxy`) is built apart, into bundle/sidecar/: in one build with the
// other commands, the chunks it shares with them carry what they use (all of zod's classic
// API and its locales, for the resource schemas) and cost every sidecar about 2 MB more.
await build({ ...common, entryPoints: { main: `${root}packages/cli/src/sidecar-main.ts`, 'csr-child': csrChild }, outdir: `${outdir}/sidecar` });
