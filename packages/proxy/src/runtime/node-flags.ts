/**
 * Node flags a sidecar process should run with. V8's young generation grows to 16 MB per
 * semi-space under load (32 MB or more of resident memory), far more than a proxy's
 * short-lived garbage needs: capped at 1 MB, a sidecar's memory stays flat under load
 * (see docs/benchmarks.md, memory) for a share of CPU in more frequent scavenges too small
 * to tell apart from noise in the benchmark (each scavenge finds only the few requests in
 * flight alive). V8 reads these at start only, so whoever starts a sidecar passes them (the
 * `weft` bin's shebang does, and so do `weft demo`, `weft run` and the benchmark);
 * elsewhere set `NODE_OPTIONS="--max-semi-space-size=1 --expose-gc"`. `--expose-gc` lets the
 * sidecar drop its start-up code once started (see settle-heap.ts).
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--expose-gc'];

/**
 * Environment a sidecar process should start with: glibc's allocator settings, read once
 * at process start (set by the same starters as {@link SIDECAR_NODE_FLAGS}).
 * - `MALLOC_ARENA_MAX=2`: by default every thread that allocates (V8's compiler and GC
 *   helpers, libuv's pool) gets an arena of its own, and each keeps the memory it touched;
 *   two are enough for a process with one busy thread.
 * - `MALLOC_TRIM_THRESHOLD_=131072`: give freed heap back to the kernel above 128 KB.
 *   Without it glibc raises the threshold as large blocks come and go, and holds on to
 *   megabytes of freed memory.
 * Together they take about 3 MB off a sidecar's resident memory at 1000 requests/s.
 */
export const SIDECAR_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };
