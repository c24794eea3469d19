import { setFlagsFromString } from 'node:v8';
import { translateRouteRegex } from '@weft/api/data-plane';

/**
 * Compiles a route's regular expression into the anchored `RegExp` that matches what RE2
 * would (see `translateRouteRegex`). The snapshot schema has refused what falls outside the
 * accepted subset; as a second line of defence, the first compile turns on V8's linear-time
 * engine for expressions that backtrack too much, so no request can make an expression run
 * for long, whatever its input.
 */
export const compileRouteRegex = (source: string): RegExp => {
  enableLinearFallback();
  const t = translateRouteRegex(source);
  if (!t.ok) throw new Error(`route regular expression ${JSON.stringify(source)} ${t.problem}`);
  return new RegExp(t.source);
};

let fallbackOn = false;

/** Once per process: expressions that backtrack excessively finish on V8's linear-time engine. */
const enableLinearFallback = (): void => {
  if (fallbackOn) return;
  fallbackOn = true;
  setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
};
