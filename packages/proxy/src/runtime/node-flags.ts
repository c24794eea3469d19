/**
 * Node flags a sidecar process should run with. V8's young generation grows to 16 MB per
 * semi-space under load (32 MB or more of resident memory), far more than a proxy's
 * short-lived garbage needs: capped at 2 MB, a sidecar's memory stays flat under load
 * (see docs/benchmarks.md, memory) for a small share of CPU in more frequent scavenges.
 * V8 reads these at start only, so whoever starts a sidecar passes them (the `weft` bin's
 * shebang does, and so do `weft demo`, `weft run` and the benchmark); elsewhere set
 * `NODE_OPTIONS=--max-semi-space-size=2`.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
