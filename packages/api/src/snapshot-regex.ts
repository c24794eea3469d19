/**
 * Regular expressions in routes (path, header, query parameter and gRPC method matches), as
 * proxies run them. Routes are written in the Gateway API's tradition, where expressions are
 * RE2 (what Envoy, and so Istio, runs); proxies run JavaScript's backtracking `RegExp`. Only
 * the part of the syntax on which the two agree, and which cannot make a backtracking engine
 * take exponential time, is accepted:
 *
 * - refused: backreferences (`\1`, `\k<n>`), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), inline
 *   flags (`(?i)`), repetition of a repeated group (`(a+)+`), counts above 1000, escapes one
 *   engine reads differently from the other (`\p`, `\u`, `\x{..}`, `\A`, `\z`, octal...),
 *   POSIX classes (`[[:alpha:]]`), and a `]` first in a class (`[]a]`, `[^]`);
 * - translated to what RE2 means: `.` (any character but `\n`), `\s` and `\S` (ASCII
 *   whitespace only), `(?P<name>` (a named group);
 * - anchored: an expression must match the whole value (`^(?:...)$`), as RE2's FullMatch.
 *
 * The proxy also turns on V8's linear-time fallback for expressions that backtrack too much,
 * so what slips through these rules still runs in bounded time.
 */

/** Longest expression accepted, in characters (the Gateway API's limit for values). */
export const ROUTE_REGEX_MAX_LENGTH = 1024;
/** Largest count in `{n,m}`, as in RE2. */
export const ROUTE_REGEX_MAX_REPEAT = 1000;

/** The translation of an expression, or why it is refused. */
export type RouteRegexTranslation = { readonly ok: true; readonly source: string } | { readonly ok: false; readonly problem: string };

const WHITESPACE_CLASS = '\\t\\n\\f\\r ';
const SIMPLE_ESCAPES = new Set(['d', 'D', 'w', 'W', 'b', 'B', 't', 'n', 'r', 'f', 'v']);
const HEX = /^[0-9a-fA-F]{2}$/;
const POSIX_CLASS = /^\[:\^?[a-z]+:\]/;
const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_]*>/;
const COUNTED = /^\{(\d+)(,(\d*))?\}/;

/** One open group: whether something inside it repeats (so that repeating the group nests repetition). */
interface Group {
  repeats: boolean;
}

/** What a quantifier applies to. */
type Atom = 'none' | 'plain' | 'group';

const refuse = (problem: string): RouteRegexTranslation => ({ ok: false, problem });

/** Why an escape `\c` outside a class is refused, or its translation. */
const escapeOutside = (c: string, rest: string): { out: string; skip: number } | string => {
  if (SIMPLE_ESCAPES.has(c)) return { out: `\\${c}`, skip: 0 };
  if (c === 's') return { out: `[${WHITESPACE_CLASS}]`, skip: 0 };
  if (c === 'S') return { out: `[^${WHITESPACE_CLASS}]`, skip: 0 };
  return escapeCommon(c, rest);
};

/** Escapes read alike inside and outside classes: hex bytes and escaped punctuation. */
const escapeCommon = (c: string, rest: string): { out: string; skip: number } | string => {
  if (c === 'x') {
    const hex = rest.slice(0, 2);
    if (!HEX.test(hex)) return '\\x must be followed by two hex digits (\\x{...} is not supported)';
    return { out: `\\x${hex}`, skip: 2 };
  }
  if (/[0-9]/.test(c)) return `backreferences and octal escapes (\\${c}) are not supported`;
  if (c === 'k') return 'backreferences (\\k<name>) are not supported';
  if (c === 'p' || c === 'P') return `Unicode classes (\\${c}) are not supported`;
  if (/[A-Za-z]/.test(c)) return `the escape \\${c} is not supported (RE2 and JavaScript read it differently, or one lacks it)`;
  return { out: `\\${c}`, skip: 0 };
};

/**
 * Checks `source` against the accepted subset and translates it into the anchored
 * JavaScript source that matches what RE2's FullMatch would.
 */
export const translateRouteRegex = (source: string): RouteRegexTranslation => {
  if (source.length === 0) return refuse('must not be empty');
  if (source.length > ROUTE_REGEX_MAX_LENGTH) return refuse(`must be at most ${ROUTE_REGEX_MAX_LENGTH} characters`);
  let out = '';
  const groups: Group[] = [{ repeats: false }];
  let atom: Atom = 'none';
  /** Whether the last group closed held repetition. */
  let closedGroupRepeats = false;
  let i = 0;
  const markRepeat = (): void => {
    for (const g of groups) g.repeats = true;
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return refuse('must not end with a lone backslash');
      const r = escapeOutside(next, source.slice(i + 2));
      if (typeof r === 'string') return refuse(r);
      out += r.out;
      i += 2 + r.skip;
      atom = next === 'b' || next === 'B' ? 'none' : 'plain';
      continue;
    }
    if (c === '[') {
      const r = translateClass(source, i);
      if (typeof r === 'string') return refuse(r);
      out += r.out;
      i = r.end;
      atom = 'plain';
      continue;
    }
    if (c === '(') {
      const rest = source.slice(i + 1);
      if (rest.startsWith('?')) {
        if (rest.startsWith('?:')) {
          out += '(?:';
          i += 3;
        } else if (rest.startsWith('?P<') && GROUP_NAME.test(rest.slice(3))) {
          out += '(?<';
          i += 4;
        } else if (rest.startsWith('?<') && GROUP_NAME.test(rest.slice(2))) {
          out += '(?<';
          i += 3;
        } else if (/^\?(=|!|<=|<!)/.test(rest)) {
          return refuse('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported');
        } else {
          return refuse('inline flags and other (? groups are not supported; use (?:...) or (?<name>...)');
        }
      } else {
        out += '(';
        i += 1;
      }
      groups.push({ repeats: false });
      atom = 'none';
      continue;
    }
    if (c === ')') {
      if (groups.length === 1) return refuse('has an unmatched ")"');
      const closed = groups.pop() as Group;
      closedGroupRepeats = closed.repeats;
      out += ')';
      i += 1;
      atom = 'group';
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || (c === '{' && COUNTED.test(source.slice(i)))) {
      let max = Number.POSITIVE_INFINITY;
      let text = c;
      if (c === '?') max = 1;
      if (c === '{') {
        const m = COUNTED.exec(source.slice(i)) as RegExpExecArray;
        const min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
        if (min > ROUTE_REGEX_MAX_REPEAT || (Number.isFinite(max) && max > ROUTE_REGEX_MAX_REPEAT)) {
          return refuse(`repetition counts must be at most ${ROUTE_REGEX_MAX_REPEAT}`);
        }
        if (max < min) return refuse(`repetition {${m[1]},${m[3] ?? ''}} has its bounds reversed`);
        text = m[0];
      }
      if (atom === 'none') return refuse(`"${text}" has nothing to repeat`);
      if (max > 1) {
        if (atom === 'group' && closedGroupRepeats) {
          return refuse('repeats a group that itself repeats (such as (a+)+): this can take exponential time in JavaScript');
        }
        markRepeat();
      }
      out += text;
      i += text.length;
      // A lazy marker belongs to the quantifier.
      if (source[i] === '?') {
        out += '?';
        i += 1;
      }
      atom = 'none';
      continue;
    }
    if (c === '.') {
      out += '[^\\n]';
      i += 1;
      atom = 'plain';
      continue;
    }
    if (c === '|' || c === '^' || c === '$') {
      out += c;
      i += 1;
      atom = 'none';
      continue;
    }
    out += c;
    i += 1;
    atom = 'plain';
  }
  if (groups.length > 1) return refuse('has an unclosed "("');
  const anchored = `^(?:${out})$`;
  try {
    new RegExp(anchored);
  } catch (err) {
    return refuse(`is not a valid regular expression: ${(err as Error).message}`);
  }
  return { ok: true, source: anchored };
};

/** Translates the class starting at `source[start]` (`[`); returns its translation and end, or a problem. */
const translateClass = (source: string, start: number): { out: string; end: number } | string => {
  let i = start + 1;
  let out = '[';
  if (source[i] === '^') {
    out += '^';
    i += 1;
  }
  if (source[i] === ']') return 'a "]" first in a class ([]...] or [^]...]) means different things in RE2 and JavaScript: escape it as \\]';
  for (;;) {
    const c = source[i];
    if (c === undefined) return 'has an unclosed "["';
    if (c === ']') return { out: `${out}]`, end: i + 1 };
    if (c === '[' && POSIX_CLASS.test(source.slice(i))) return 'POSIX classes such as [:alpha:] are not supported; write the characters, e.g. [a-zA-Z]';
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return 'has an unclosed "["';
      if (next === 's') {
        out += WHITESPACE_CLASS;
        i += 2;
        continue;
      }
      if (next === 'S') return '\\S is not supported inside a class (RE2 and JavaScript define whitespace differently)';
      if (next === 'b') return '\\b is not supported inside a class';
      if (SIMPLE_ESCAPES.has(next)) {
        out += `\\${next}`;
        i += 2;
        continue;
      }
      const r = escapeCommon(next, source.slice(i + 2));
      if (typeof r === 'string') return r;
      out += r.out;
      i += 2 + r.skip;
      continue;
    }
    out += c;
    i += 1;
  }
};

/** Why `source` is refused as a route expression, or undefined when it is accepted. */
export const routeRegexProblem = (source: string): string | undefined => {
  const t = translateRouteRegex(source);
  return t.ok ? undefined : t.problem;
};
