import type { ServiceMatch, StringMatch } from '@weft/api/data-plane';

/** A compiled value test. */
export type ValueTest = (value: string) => boolean;

const always: ValueTest = () => true;

/**
 * Compiles a list of alternatives (OR) into one test: exact values in a Set, then the
 * prefixes and suffixes in order. `any` among them makes the test always true.
 */
export const anyOf = (list: readonly StringMatch[]): ValueTest => {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  for (const m of list) {
    if ('any' in m) return always;
    if ('exact' in m) exact.add(m.exact);
    else if ('prefix' in m) prefixes.push(m.prefix);
    else suffixes.push(m.suffix);
  }
  if (prefixes.length === 0 && suffixes.length === 0) {
    if (exact.size === 1) {
      const [only] = exact;
      return (v) => v === only;
    }
    return (v) => exact.has(v);
  }
  return (v) => {
    if (exact.has(v)) return true;
    for (const p of prefixes) if (v.startsWith(p)) return true;
    for (const s of suffixes) if (v.endsWith(s)) return true;
    return false;
  };
};

/** One value pattern alone. */
export const matchOne = (m: StringMatch): ValueTest => anyOf([m]);

/** A calling service: its service account and namespace must both match. */
export const anyService = (list: readonly ServiceMatch[]): ((serviceAccount: string, namespace: string) => boolean) => {
  const tests = list.map((s) => ({ name: matchOne(s.name), namespace: matchOne(s.namespace) }));
  return (serviceAccount, namespace) => {
    for (const t of tests) if (t.name(serviceAccount) && t.namespace(namespace)) return true;
    return false;
  };
};
