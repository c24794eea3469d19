#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=1 --expose-gc
// The `weft` command. It runs the bundle that `npm run build` makes (packages/cli/bundle;
// `weft proxy`, the sidecar, from its own bundle in bundle/sidecar); tests run the
// TypeScript sources instead. The shebang starts every command as a sidecar should run
// (SIDECAR_ENV and SIDECAR_NODE_FLAGS in packages/proxy/src/runtime/node-flags.ts).
const entry = process.argv[2] === 'proxy' ? '../bundle/sidecar/main.js' : '../bundle/main.js';
import(entry).then((m) => m.main(process.argv.slice(2)));
