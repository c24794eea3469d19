/**
 * The path an authorization rule matches against: the request target without its query or
 * fragment, normalised as Istio's default (`BASE`) normalisation does, so that
 * `/a/../admin` or `/%61dmin` cannot slip past a rule on `/admin`: percent-encoded
 * unreserved characters are decoded, other escapes get upper-case hex, and `.` and `..`
 * segments are resolved (RFC 3986 §6.2.2). The request forwarded to the application is
 * left as the client sent it.
 */
export const authzPath = (target: string): string => {
  let end = target.length;
  const query = target.indexOf('?');
  if (query >= 0) end = query;
  const fragment = target.indexOf('#');
  if (fragment >= 0 && fragment < end) end = fragment;
  const path = end === target.length ? target : target.slice(0, end);
  // Most paths have nothing to normalise: no escape and no dot segment.
  if (path.indexOf('%') < 0 && path.indexOf('/.') < 0) return path;
  return removeDotSegments(decodeUnreserved(path));
};

const HEX = /^[0-9a-fA-F]{2}$/;
/** RFC 3986 unreserved characters: letters, digits, `-`, `.`, `_`, `~`. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

const decodeUnreserved = (path: string): string => {
  if (path.indexOf('%') < 0) return path;
  let out = '';
  let i = 0;
  while (i < path.length) {
    const c = path[i] as string;
    const hex = path.slice(i + 1, i + 3);
    if (c === '%' && HEX.test(hex)) {
      const ch = String.fromCharCode(parseInt(hex, 16));
      out += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
      i += 3;
    } else {
      out += c;
      i++;
    }
  }
  return out;
};

/** RFC 3986 §5.2.4, on a path that starts with `/` (anything else is returned as it is). */
const removeDotSegments = (path: string): string => {
  if (!path.startsWith('/')) return path;
  const segments = path.split('/');
  const out: string[] = [];
  // segments[0] is the empty string before the leading '/'.
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i] as string;
    const last = i === segments.length - 1;
    if (s === '.') {
      if (last) out.push('');
    } else if (s === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
};
