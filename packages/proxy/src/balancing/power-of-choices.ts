import type { Random } from '../resilience/clock.js';
import type { WeightedSampler } from './weighted-sampler.js';

/**
 * "The power of d choices": draw `choices` endpoints at random and keep the cheapest. Two
 * choices already avoid nearly all of the herding of "always the least loaded" (every
 * proxy sending to the same idle endpoint at once) while keeping load close to even. The
 * first two draws are distinct when drawing uniformly; with weights, draws follow them.
 * Ties keep the earlier draw. Returns an index into the list of `n`, or -1 when `n` is 0.
 */
export const pickByChoices = (n: number, choices: number, random: Random, cost: (index: number) => number, sampler?: WeightedSampler): number => {
  if (n <= 0) return -1;
  if (n === 1) return 0;
  const draw = (): number => (sampler === undefined ? Math.floor(random() * n) : sampler.draw(random));
  let best = draw();
  let bestCost = cost(best);
  for (let c = 1; c < choices; c++) {
    let i: number;
    if (c === 1 && sampler === undefined) {
      i = Math.floor(random() * (n - 1));
      if (i >= best) i++;
    } else {
      i = draw();
    }
    const ci = cost(i);
    if (ci < bestCost) {
      best = i;
      bestCost = ci;
    }
  }
  return best;
};
