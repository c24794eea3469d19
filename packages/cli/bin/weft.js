#!/usr/bin/env -S node --max-semi-space-size=2
// The `weft` command. It runs the bundle that `npm run build` makes (packages/cli/bundle;
// `weft proxy`, the sidecar, from its own bundle in bundle/sidecar); tests run the
// TypeScript sources instead.
const entry = process.argv[2] === 'proxy' ? '../bundle/sidecar/main.js' : '../bundle/main.js';
import(entry).then((m) => m.main(process.argv.slice(2)));
