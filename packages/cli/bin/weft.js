#!/usr/bin/env node
// The `weft` command. It runs the compiled CLI (npm run build); tests run the sources.
import('../dist/main.js').then((m) => m.main(process.argv.slice(2)));
