// How the benchmark starts a sidecar: with the environment and Node flags of the `weft`
// bin's shebang (SIDECAR_ENV and SIDECAR_NODE_FLAGS of packages/proxy, which a test keeps
// equal to it), since the benchmark runs the bin with `node` directly and a shebang only
// applies to a bin run as a program. WEFT_BENCH_NODE_FLAGS overrides the flags, to measure
// their cost.
import fs from 'node:fs';
import path from 'node:path';

/**
 * `{ env, nodeFlags, envWords }` from the shebang of `bin`, or of the repository's bin when it
 * has none; `envWords` is `env` as `NAME=value` words, to print a command line.
 */
export const sidecarLaunch = (root, bin) => {
  const shebangOf = (file) => {
    const first = fs.readFileSync(file, 'utf8').split('\n')[0] ?? '';
    return first.startsWith('#!/usr/bin/env -S ') ? first.slice('#!/usr/bin/env -S '.length).split(' ').filter(Boolean) : undefined;
  };
  const words = shebangOf(bin) ?? shebangOf(path.join(root, 'packages/cli/bin/weft.js')) ?? ['node'];
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, node).map((w) => w.split('=')));
  const override = process.env.WEFT_BENCH_NODE_FLAGS;
  const nodeFlags = override !== undefined ? override.split(' ').filter(Boolean) : words.slice(node + 1);
  return { env, nodeFlags, envWords: words.slice(0, node) };
};
