import type { PathModifier } from '@weft/api/data-plane';

/**
 * Path modifiers of URLRewrite and RequestRedirect. `ReplaceFullPath` replaces the path;
 * `ReplacePrefixMatch` replaces the part the rule's `PathPrefix` match matched, by whole
 * segments, as the Gateway API's table shows: with prefix `/foo`, `/foo/bar` becomes
 * `/xyz/bar` for `/xyz` or `/xyz/`, `/foo/` becomes `/xyz/`, `/foo` becomes `/xyz`, and an
 * empty replacement leaves `/bar`, `/` and `/`. The query string is kept as it was.
 */

/** Rewrites the path of an origin-form target; `prefix` is what the rule's match matched. */
export type PathChange = (target: string, prefix: string | undefined) => string;

/**
 * Replaces `prefix` (without trailing `/`; `''` for the root prefix) at the start of `path`
 * with `replacement` (whose trailing `/` is dropped, so that `/xyz/` is `/xyz`). A path that
 * does not start with the prefix at a segment boundary is returned as it was.
 */
export const replacePrefix = (path: string, prefix: string, replacement: string): string => {
  const n = prefix.length;
  if (!path.startsWith(prefix) || (path.length > n && path.charCodeAt(n) !== 0x2f)) return path;
  const head = replacement.endsWith('/') ? replacement.slice(0, -1) : replacement;
  const out = head + path.slice(n);
  return out === '' ? '/' : out;
};

/** Applies `change` to the path of `target`, keeping its query. */
const onPath = (target: string, change: (path: string) => string): string => {
  const q = target.indexOf('?');
  return q < 0 ? change(target) : change(target.slice(0, q)) + target.slice(q);
};

/** Compiles a path modifier. */
export const compilePathChange = (m: PathModifier): PathChange => {
  if (m.type === 'ReplaceFullPath') {
    const path = m.replaceFullPath;
    return (target) => onPath(target, () => path);
  }
  const replacement = m.replacePrefixMatch;
  return (target, prefix) => (prefix === undefined ? target : onPath(target, (path) => replacePrefix(path, prefix, replacement)));
};
