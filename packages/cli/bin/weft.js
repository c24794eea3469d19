#!/usr/bin/env -S node --max-semi-space-size=2
// The `weft` command. It runs the bundle that `npm run build` makes (packages/cli/bundle);
// tests run the TypeScript sources instead.
import('../bundle/main.js').then((m) => m.main(process.argv.slice(2)));
