import type { Random } from '../resilience/clock.js';

/**
 * Draws indices of a list with probability proportional to weight, in logarithmic time:
 * a binary search over cumulative weights built once per list.
 */
export class WeightedSampler {
  readonly #cumulative: Float64Array;
  readonly #total: number;

  constructor(weights: readonly number[]) {
    this.#cumulative = new Float64Array(weights.length);
    let total = 0;
    weights.forEach((w, i) => {
      total += w;
      this.#cumulative[i] = total;
    });
    this.#total = total;
  }

  /** An index, or -1 for an empty list. */
  draw(random: Random): number {
    const c = this.#cumulative;
    if (c.length === 0) return -1;
    const target = random() * this.#total;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((c[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
