/**
 * The time source and timer every policy engine takes, so that the engines never read the
 * wall clock or schedule work behind a caller's back: the proxy passes {@link systemClock}
 * and {@link systemTimer}, tests a {@link VirtualClock} they advance by hand.
 */

/** A monotonic time source in milliseconds (not wall-clock time: it never jumps back). */
export interface Clock {
  now(): number;
}

/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

/** Schedules callbacks; the engines that work on their own (ticks, probes) take one. */
export interface Timer {
  /** Runs `fn` once after `delayMs`. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** A uniform random number in [0, 1); injected so that tests can fix the sequence. */
export type Random = () => number;

/** `performance.now()`: monotonic, so that refills and windows survive a clock change. */
export const systemClock: Clock = { now: () => performance.now() };

/** Node's timers, unref'd: a pending policy tick never keeps the process alive. */
export const systemTimer: Timer = {
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * A small, fast, seeded generator (mulberry32) for tests and simulations: the same seed
 * gives the same sequence on every machine, so statistical tests are deterministic.
 */
export const seededRandom = (seed: number): Random => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
