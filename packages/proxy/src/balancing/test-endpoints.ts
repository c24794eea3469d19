import type { Availability } from './availability.js';
import type { BalancedEndpoint } from './balancer.js';

/** `n` endpoints `10.0.0.<i>:8080` with the given labels and weight: for tests and simulations. */
export const makeEndpoints = (n: number, labels: (i: number) => Record<string, string> = () => ({}), weight: (i: number) => number = () => 1): BalancedEndpoint[] =>
  Array.from({ length: n }, (_, i) => ({ key: `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}:8080`, labels: labels(i), weight: weight(i) }));

/** An availability set by hand: endpoints go down and up as a test says. */
export class ManualAvailability implements Availability {
  version = 0;
  readonly #down = new Set<string>();

  isAvailable(key: string): boolean {
    return !this.#down.has(key);
  }

  down(...keys: string[]): void {
    for (const k of keys) this.#down.add(k);
    this.version++;
  }

  up(...keys: string[]): void {
    for (const k of keys) this.#down.delete(k);
    this.version++;
  }
}
