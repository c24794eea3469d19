import type { Clock, Timer, TimerHandle } from './clock.js';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock and timer whose time moves only when told to, for tests and simulations of the
 * policy engines: hours of ejections, refills and probes run in milliseconds, and the
 * outcome does not depend on how busy the machine is.
 */
export class VirtualClock implements Clock, Timer {
  #now: number;
  #seq = 0;
  #queue: Scheduled[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const entry: Scheduled = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn, cancelled: false };
    this.#queue.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Timers scheduled and neither run nor cancelled. */
  get pending(): number {
    return this.#queue.filter((e) => !e.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way, in time
   * order, with the clock reading each timer's own time while it runs. Synchronous: use
   * {@link advance} when timers start promises whose continuations must run too.
   */
  tick(ms: number): void {
    const end = this.#now + ms;
    for (let next = this.#takeDue(end); next !== undefined; next = this.#takeDue(end)) {
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }

  /**
   * As {@link tick}, but lets pending promise continuations (a probe that resolved, the
   * code awaiting it) run after each timer and at the end, as they would in real time.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let next = this.#takeDue(end); next !== undefined; next = this.#takeDue(end)) {
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  #takeDue(end: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const e of this.#queue) {
      if (e.cancelled || e.at > end) continue;
      if (best === undefined || e.at < best.at || (e.at === best.at && e.seq < best.seq)) best = e;
    }
    if (best !== undefined) this.#queue = this.#queue.filter((e) => e !== best && !e.cancelled);
    return best;
  }
}
