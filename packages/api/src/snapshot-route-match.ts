import { _default, array, maxLength, minLength, optional, strictObject, string, superRefine, zenum, type Infer, type RefinementCtx } from './zod-mini.js';
import { httpHeaderName as headerName } from './snapshot-fields.js';
import { routeRegexProblem } from './snapshot-regex.js';

/**
 * The request matches of the snapshot, as the Gateway API's HTTPRoute and GRPCRoute define
 * them once resolved: path, method, headers, query parameters, gRPC service and method.
 * Route rules select requests with them, and so do the faults and rate limits that apply to
 * some requests only (a FaultPolicy's `matches`, a RateLimitPolicy on a route).
 */

/** Adds an issue at `path` when `value` is an expression proxies refuse. */
const checkRegex = (value: string, path: (string | number)[], ctx: RefinementCtx<unknown>): void => {
  const problem = routeRegexProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: `regular expression ${problem}` });
};

/** How a header, query parameter or gRPC name is compared: whole value, or an expression over it. */
export const RouteValueMatchTypeSchema = zenum(['Exact', 'RegularExpression']);
export type RouteValueMatchType = Infer<typeof RouteValueMatchTypeSchema>;

/**
 * A path match: `PathPrefix` (whole path segments: `/api` matches `/api` and `/api/x`, not
 * `/apix`), `Exact`, or `RegularExpression` (the whole path). The query string is not part
 * of the path.
 */
export const PathMatchSchema = strictObject({
  type: _default(zenum(['PathPrefix', 'Exact', 'RegularExpression']), 'PathPrefix'),
  value: _default(string().check(maxLength(1024)), '/'),
}).check(
  superRefine((m, ctx) => {
    if (m.type === 'RegularExpression') checkRegex(m.value, ['value'], ctx);
    else if (!m.value.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['value'], message: 'must start with "/"' });
  }),
);
export type PathMatch = Infer<typeof PathMatchSchema>;

const valueMatch = (valueMax: number) =>
  strictObject({
    type: _default(RouteValueMatchTypeSchema, 'Exact'),
    name: headerName,
    value: string().check(minLength(1), maxLength(valueMax)),
  }).check(
    superRefine((m, ctx) => {
      if (m.type === 'RegularExpression') checkRegex(m.value, ['value'], ctx);
    }),
  );

/** A header match; names are compared case-insensitively, values exactly (or by expression). */
export const RouteHeaderMatchSchema = valueMatch(4096);
export type RouteHeaderMatch = Infer<typeof RouteHeaderMatchSchema>;

/** A query parameter match; the first value of a repeated parameter is the one matched. */
export const RouteQueryParamMatchSchema = valueMatch(1024);
export type RouteQueryParamMatch = Infer<typeof RouteQueryParamMatchSchema>;

/**
 * A gRPC match: the call is a gRPC call (`content-type: application/grpc...`) and its path
 * `/<service>/<method>` meets the service and method given (either omitted: any).
 */
export const GrpcMethodMatchSchema = strictObject({
  type: _default(RouteValueMatchTypeSchema, 'Exact'),
  service: optional(string().check(minLength(1), maxLength(1024))),
  method: optional(string().check(minLength(1), maxLength(1024))),
}).check(
  superRefine((m, ctx) => {
    if (m.type !== 'RegularExpression') return;
    if (m.service !== undefined) checkRegex(m.service, ['service'], ctx);
    if (m.method !== undefined) checkRegex(m.method, ['method'], ctx);
  }),
);
export type GrpcMethodMatch = Infer<typeof GrpcMethodMatchSchema>;

/** HTTP methods a match may name (the Gateway API's list). */
export const HttpMethodSchema = zenum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** A `superRefine` for match lists whose names must be distinct under `key`. */
const distinctNames =
  <T>(key: (item: T) => string, what: string) =>
  (items: readonly T[], ctx: RefinementCtx<T[]>): void => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} ${JSON.stringify(k)}` });
      seen.add(k);
    });
  };

/** Conditions a request must all meet (AND); a rule takes a request when any of its matches holds. */
export const RouteMatchSchema = strictObject({
  path: _default(PathMatchSchema, { type: 'PathPrefix', value: '/' }),
  method: optional(HttpMethodSchema),
  headers: optional(
    array(RouteHeaderMatchSchema).check(
      maxLength(16),
      superRefine(distinctNames((h: RouteHeaderMatch) => h.name.toLowerCase(), 'header')),
    ),
  ),
  queryParams: optional(
    array(RouteQueryParamMatchSchema).check(maxLength(16), superRefine(distinctNames((q: RouteQueryParamMatch) => q.name, 'query parameter'))),
  ),
  grpc: optional(GrpcMethodMatchSchema),
});
export type RouteMatch = Infer<typeof RouteMatchSchema>;
