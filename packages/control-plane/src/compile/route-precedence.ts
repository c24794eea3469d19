import type { SnapshotMatch } from './route-translate.js';

/**
 * The order of matches across every rule of the routes of one Service, as the Gateway API
 * defines it; ties beyond what a match says (route age, name, rule order) are the caller's.
 *
 * - gRPC matches come first: they take gRPC calls only, and a gRPC call is routed by the
 *   GRPCRoutes when one of them matches (the Gateway API does not merge the two kinds).
 *   Among them, the most characters of service, then of method, then `Exact` before an
 *   expression, then the most header matches.
 * - HTTP matches: an `Exact` path, then a `RegularExpression` path (longer expression
 *   first: the Gateway API leaves its place to implementations; before prefixes, so that a
 *   catch-all prefix does not hide every expression), then `PathPrefix` by length; then a
 *   method match; then the most header matches; then the most query parameter matches.
 */
export const compareMatches = (a: SnapshotMatch, b: SnapshotMatch): number => {
  const ga = a.grpc;
  const gb = b.grpc;
  if (ga !== undefined || gb !== undefined) {
    if (ga === undefined) return 1;
    if (gb === undefined) return -1;
    return (
      (gb.service?.length ?? 0) - (ga.service?.length ?? 0) ||
      (gb.method?.length ?? 0) - (ga.method?.length ?? 0) ||
      Number(gb.type === 'Exact') - Number(ga.type === 'Exact') ||
      (b.headers?.length ?? 0) - (a.headers?.length ?? 0)
    );
  }
  return (
    PATH_TIER[b.path.type] - PATH_TIER[a.path.type] ||
    normalPath(b).length - normalPath(a).length ||
    Number(b.method !== undefined) - Number(a.method !== undefined) ||
    (b.headers?.length ?? 0) - (a.headers?.length ?? 0) ||
    (b.queryParams?.length ?? 0) - (a.queryParams?.length ?? 0)
  );
};

const PATH_TIER: Readonly<Record<SnapshotMatch['path']['type'], number>> = { Exact: 3, RegularExpression: 2, PathPrefix: 1 };

/** A path value as it matches: a prefix's trailing "/" does not matter (`/api/` is `/api`). */
const normalPath = (m: SnapshotMatch): string =>
  m.path.type === 'PathPrefix' && m.path.value.length > 1 ? m.path.value.replace(/\/$/, '') : m.path.value;

type Named = { readonly type: string; readonly name: string; readonly value: string };

const sortedValues = (list: readonly Named[] | undefined, fold: boolean): string[] =>
  (list ?? []).map((v) => `${fold ? v.name.toLowerCase() : v.name}\u0000${v.type}\u0000${v.value}`).sort();

/**
 * Two matches with one key select the same requests: the same path (a prefix's trailing "/"
 * aside), method, headers (names in any case, in any order), query parameters and gRPC
 * method.
 */
export const matchKey = (m: SnapshotMatch): string =>
  JSON.stringify([
    m.grpc === undefined ? null : [m.grpc.type, m.grpc.service ?? null, m.grpc.method ?? null],
    m.grpc === undefined ? [m.path.type, normalPath(m)] : null,
    m.method ?? null,
    sortedValues(m.headers, true),
    sortedValues(m.queryParams, false),
  ]);

/** A match as status messages name it: `PathPrefix /api`, `Exact /x, method POST, headers x-user`. */
export const describeMatch = (m: SnapshotMatch): string => {
  const parts: string[] = [];
  if (m.grpc === undefined) parts.push(`${m.path.type} ${m.path.value}`);
  else {
    const g = m.grpc;
    const what = g.service === undefined && g.method === undefined ? 'any call' : `${g.service ?? '*'}/${g.method ?? '*'}`;
    parts.push(g.type === 'Exact' ? `gRPC ${what}` : `gRPC ${g.type} ${what}`);
  }
  if (m.method !== undefined) parts.push(`method ${m.method}`);
  if (m.headers !== undefined && m.headers.length > 0) parts.push(`headers ${m.headers.map((h) => h.name).join(', ')}`);
  if (m.queryParams !== undefined && m.queryParams.length > 0) parts.push(`query ${m.queryParams.map((q) => q.name).join(', ')}`);
  return parts.join(', ');
};
