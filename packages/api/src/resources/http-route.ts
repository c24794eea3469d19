import { z } from 'zod';
import { DurationSchema, isDuration, parseDuration } from './duration.js';
import { distinctBy, headerName, portNumber, regularExpression } from './fields.js';
import {
  GATEWAY_LIMITS,
  HTTPHeaderFilterSchema,
  HostnameSchema,
  PreciseHostnameSchema,
  RequestMirrorFilterSchema,
  RouteStatusSchema,
  ValueMatchTypeSchema,
  backendObjectReferenceShape,
  backendWeight,
  distinctRuleNames,
  headerMatchList,
  parentRefsSchema,
  retryAttemptsAndBackoff,
  ruleName,
  withBackendChecks,
} from './gateway-common.js';
import { GATEWAY_API_VERSION, ObjectMetaSchema } from './meta.js';

/**
 * `HTTPRoute` (`gateway.networking.k8s.io/v1`), as the Gateway API defines it, attached to
 * a Service (GAMMA): how calls to that Service are matched, changed and split across
 * backends. Field names, defaults and limits are the Gateway API's, including the rules
 * its CRD states in CEL. What Weft does not implement (the `CORS`, `ExternalAuth` and
 * `ExtensionRef` filters, `sessionPersistence`) is rejected, rather than silently ignored.
 */

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** The Gateway API's syntax rules for `Exact` and `PathPrefix` path values, with its messages. */
const pathProblem = (value: string): string | undefined => {
  if (!value.startsWith('/')) return 'must start with "/"';
  if (value.includes('//')) return "must not contain '//'";
  if (value.includes('/./')) return "must not contain '/./'";
  if (value.includes('/../')) return "must not contain '/../'";
  if (value.includes('%2f') || value.includes('%2F')) return "must not contain '%2f' or '%2F'";
  if (value.includes('#')) return "must not contain '#'";
  if (value.endsWith('/..')) return "must not end with '/..'";
  if (value.endsWith('/.')) return "must not end with '/.'";
  if (!PATH_CHARS.test(value)) return "must only contain valid path characters (letters, digits, -._~!$&'()*+,;=:@/ and %XX escapes)";
  return undefined;
};

/** How a path is compared: `Exact`, `PathPrefix` (by whole segments), or `RegularExpression`. */
export const PathMatchTypeSchema = z.enum(['Exact', 'PathPrefix', 'RegularExpression']);

/** `HTTPPathMatch`. */
export const HTTPPathMatchSchema = z
  .strictObject({
    type: PathMatchTypeSchema.default('PathPrefix').describe(
      '`PathPrefix` (default): matches whole path segments, so `/abc` matches `/abc`, `/abc/` and `/abc/def` but not `/abcd`. `Exact`: the whole path, case-sensitive. `RegularExpression`: RE2 syntax (subset: no backreferences, lookaround or inline flags), must match the whole path.',
    ),
    value: z.string().max(1024).default('/').describe('The path (or expression) to match. Default `/`.'),
  })
  .superRefine((m, ctx) => {
    if (m.type === 'RegularExpression') {
      const r = regularExpression().safeParse(m.value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid regular expression' });
      return;
    }
    const problem = pathProblem(m.value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `${problem} (path type ${m.type})` });
  })
  .describe('A match on the request path.');
export type HTTPPathMatch = z.infer<typeof HTTPPathMatchSchema>;

/** `HTTPQueryParamMatch`. */
export const HTTPQueryParamMatchSchema = z
  .strictObject({
    type: ValueMatchTypeSchema.default('Exact').describe('`Exact` (default) or `RegularExpression` (RE2 subset, whole value).'),
    name: headerName().describe('Query parameter name, compared exactly. When repeated in a request, the first value is matched.'),
    value: z.string().min(1).max(1024).describe('Value to match.'),
  })
  .superRefine((m, ctx) => {
    if (m.type !== 'RegularExpression') return;
    const r = regularExpression().safeParse(m.value);
    if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid regular expression' });
  });
export type HTTPQueryParamMatch = z.infer<typeof HTTPQueryParamMatchSchema>;

/** HTTP methods a route may match (the Gateway API's `HTTPMethod`). */
export const HTTPMethodSchema = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);
export type HTTPMethod = z.infer<typeof HTTPMethodSchema>;

const defaultPathMatch = (): HTTPPathMatch => ({ type: 'PathPrefix', value: '/' });

/**
 * `HTTPRouteMatch`: every condition given must hold (AND). Precedence across matches is
 * the Gateway API's: Exact path, then longest prefix, then method, then most header
 * matches, then most query matches; then the oldest route, then the first rule.
 */
export const HTTPRouteMatchSchema = z
  .strictObject({
    path: HTTPPathMatchSchema.default(defaultPathMatch).describe('Path match; default: `PathPrefix` `/` (every path).'),
    headers: headerMatchList().optional().describe('Header matches, all of which must hold. At most 16, names distinct.'),
    queryParams: z
      .array(HTTPQueryParamMatchSchema)
      .max(GATEWAY_LIMITS.queryParamMatches, `must have at most ${GATEWAY_LIMITS.queryParamMatches} items (Gateway API limit)`)
      .superRefine(distinctBy((q: HTTPQueryParamMatch) => q.name, 'query parameter', 'name'))
      .optional()
      .describe('Query parameter matches, all of which must hold. At most 16, names distinct.'),
    method: HTTPMethodSchema.optional().describe('HTTP method to match (upper case).'),
  })
  .describe('Conditions a request must all meet.');
export type HTTPRouteMatch = z.infer<typeof HTTPRouteMatchSchema>;

/** `HTTPPathModifier`: replace the whole path, or the part a `PathPrefix` match matched. */
export const HTTPPathModifierSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('ReplaceFullPath'),
      replaceFullPath: z.string().max(1024).describe('The new path.'),
    }),
    z.strictObject({
      type: z.literal('ReplacePrefixMatch'),
      replacePrefixMatch: z
        .string()
        .max(1024)
        .describe('Replaces the matched prefix, by whole segments: `/foo/bar` with prefix `/foo` and `/xyz` becomes `/xyz/bar`. Needs exactly one `PathPrefix` match in the rule.'),
    }),
  ])
  .describe('`ReplaceFullPath` with `replaceFullPath`, or `ReplacePrefixMatch` with `replacePrefixMatch`.');
export type HTTPPathModifier = z.infer<typeof HTTPPathModifierSchema>;

/** `HTTPRequestRedirectFilter`: answer with a redirect instead of forwarding. */
export const HTTPRequestRedirectFilterSchema = z
  .strictObject({
    scheme: z.enum(['http', 'https']).optional().describe('Scheme of the `Location`; default: the request\'s.'),
    hostname: PreciseHostnameSchema.optional().describe('Host of the `Location`; default: the request\'s `Host`.'),
    path: HTTPPathModifierSchema.optional().describe('How the path of the `Location` is derived; default: the request path.'),
    port: portNumber().optional().describe('Port of the `Location`; default: the well-known port of `scheme`, else the request\'s.'),
    statusCode: z.literal([301, 302, 303, 307, 308]).default(302).describe('Redirect status: 301, 302 (default), 303, 307 or 308.'),
  })
  .describe('Answers with a redirect; the request is not forwarded.');

/** `HTTPURLRewriteFilter`: change host and path before forwarding. */
export const HTTPURLRewriteFilterSchema = z
  .strictObject({
    hostname: PreciseHostnameSchema.optional().describe('Replaces the `Host` header.'),
    path: HTTPPathModifierSchema.optional().describe('Rewrites the path.'),
  })
  .describe('Rewrites host and path before forwarding.');

/** `HTTPRouteFilter`: a `type` and the matching member, as the Gateway API's union. */
export const HTTPRouteFilterSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('RequestHeaderModifier'),
      requestHeaderModifier: HTTPHeaderFilterSchema,
    }),
    z.strictObject({
      type: z.literal('ResponseHeaderModifier'),
      responseHeaderModifier: HTTPHeaderFilterSchema,
    }),
    z.strictObject({
      type: z.literal('RequestMirror'),
      requestMirror: RequestMirrorFilterSchema,
    }),
    z.strictObject({
      type: z.literal('RequestRedirect'),
      requestRedirect: HTTPRequestRedirectFilterSchema,
    }),
    z.strictObject({
      type: z.literal('URLRewrite'),
      urlRewrite: HTTPURLRewriteFilterSchema,
    }),
  ])
  .describe(
    'A processing step: `type` names it and the field of the same name (camelCase) configures it: RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite.',
  );
export type HTTPRouteFilter = z.infer<typeof HTTPRouteFilterSchema>;

/** The Gateway API's rules for a filter list: no redirect with a rewrite, and no repeats but mirrors. */
const checkFilterList = (filters: readonly HTTPRouteFilter[], ctx: z.RefinementCtx<HTTPRouteFilter[]>): void => {
  const seen = new Map<string, number>();
  filters.forEach((f, i) => {
    const first = seen.get(f.type);
    if (first !== undefined && f.type !== 'RequestMirror') {
      ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `${f.type} filter cannot be repeated (first at index ${first})` });
    }
    if (first === undefined) seen.set(f.type, i);
  });
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
    ctx.addIssue({ code: 'custom', path: [seen.get('URLRewrite') ?? 0, 'type'], message: 'may specify either RequestRedirect or URLRewrite, but not both' });
  }
};

const filterList = () =>
  z.array(HTTPRouteFilterSchema).max(GATEWAY_LIMITS.filters, `must have at most ${GATEWAY_LIMITS.filters} items (Gateway API limit)`).superRefine(checkFilterList);

/** `HTTPBackendRef`: a weighted backend Service, with filters applied only to requests it receives. */
export const HTTPBackendRefSchema = z
  .strictObject({
    ...backendObjectReferenceShape,
    weight: backendWeight(),
    filters: filterList().optional().describe('Filters applied only to requests sent to this backend.'),
  })
  .superRefine(withBackendChecks)
  .describe('A backend Service with its share of requests (`weight`).');
export type HTTPBackendRef = z.infer<typeof HTTPBackendRefSchema>;

/** `HTTPRouteTimeouts`, in Gateway API durations; `0s` disables a timeout. */
export const HTTPRouteTimeoutsSchema = z
  .strictObject({
    request: DurationSchema.optional().describe(
      'Deadline for the whole exchange with the caller, retries included; past it the caller gets 504 with flag `UT` (gRPC: `DEADLINE_EXCEEDED`) and the upstream request is cancelled. `0s` disables it.',
    ),
    backendRequest: DurationSchema.optional().describe('Deadline for each attempt to a backend; no longer than `request`. `0s` disables it.'),
  })
  .superRefine((t, ctx) => {
    if (t.request === undefined || t.backendRequest === undefined || !isDuration(t.request) || !isDuration(t.backendRequest)) return;
    const request = parseDuration(t.request);
    if (request !== 0 && parseDuration(t.backendRequest) > request) {
      ctx.addIssue({ code: 'custom', path: ['backendRequest'], message: `backendRequest timeout cannot be longer than request timeout (${t.request})` });
    }
  })
  .describe('Timeouts (Gateway API `HTTPRouteTimeouts`).');
export type HTTPRouteTimeouts = z.infer<typeof HTTPRouteTimeoutsSchema>;

/** `HTTPRouteRetry`: when and how often to retry (the Gateway API's GEP-1731 shape). */
export const HTTPRouteRetrySchema = z
  .strictObject({
    codes: z
      .array(z.number().int('must be a whole number').min(400, 'must be an HTTP status from 400 to 599').max(599, 'must be an HTTP status from 400 to 599'))
      .superRefine(distinctBy((c: number) => String(c), 'status code'))
      .optional()
      .describe('Response statuses to retry on (400 to 599), in addition to connect failures and refused streams, which are always retried.'),
    ...retryAttemptsAndBackoff,
  })
  .describe('Retries (Gateway API `HTTPRouteRetry`). A request is only retried when its body fits the bounded replay buffer.');
export type HTTPRouteRetry = z.infer<typeof HTTPRouteRetrySchema>;

const usesReplacePrefix = (filters: readonly HTTPRouteFilter[] | undefined): boolean =>
  (filters ?? []).some(
    (f) =>
      (f.type === 'RequestRedirect' && f.requestRedirect.path?.type === 'ReplacePrefixMatch') ||
      (f.type === 'URLRewrite' && f.urlRewrite.path?.type === 'ReplacePrefixMatch'),
  );

/** `HTTPRouteRule`: matches, filters and weighted backends. */
export const HTTPRouteRuleSchema = z
  .strictObject({
    name: ruleName(),
    matches: z
      .array(HTTPRouteMatchSchema)
      .max(GATEWAY_LIMITS.httpMatchesPerRule, `must have at most ${GATEWAY_LIMITS.httpMatchesPerRule} items (Gateway API limit)`)
      .default(() => [{ path: defaultPathMatch() }])
      .describe('Conditions, any one of which selects this rule (OR). Default: one `PathPrefix` `/` match. At most 64.'),
    filters: filterList().optional().describe('Filters applied to every request of this rule, in order. At most 16; only RequestMirror may repeat; RequestRedirect and URLRewrite exclude each other.'),
    backendRefs: z
      .array(HTTPBackendRefSchema)
      .max(GATEWAY_LIMITS.backendRefs, `must have at most ${GATEWAY_LIMITS.backendRefs} items (Gateway API limit)`)
      .optional()
      .describe('Where matching requests go, split by weight (canary, blue/green). At most 16.'),
    timeouts: HTTPRouteTimeoutsSchema.optional(),
    retry: HTTPRouteRetrySchema.optional(),
  })
  .superRefine((rule, ctx) => {
    const filters = rule.filters ?? [];
    const redirectAt = filters.findIndex((f) => f.type === 'RequestRedirect');
    if (redirectAt >= 0 && (rule.backendRefs?.length ?? 0) > 0) {
      ctx.addIssue({ code: 'custom', path: ['filters', redirectAt, 'type'], message: 'RequestRedirect filter must not be used together with backendRefs' });
    }
    const prefixNeeded = usesReplacePrefix(rule.filters) || (rule.backendRefs ?? []).some((b) => usesReplacePrefix(b.filters));
    const onlyMatch = rule.matches[0];
    if (prefixNeeded && (rule.matches.length !== 1 || onlyMatch?.path.type !== 'PathPrefix')) {
      ctx.addIssue({ code: 'custom', path: ['matches'], message: 'path.replacePrefixMatch needs exactly one match, of type PathPrefix' });
    }
  })
  .describe('A rule: requests meeting any of `matches` pass `filters` and go to `backendRefs`.');
export type HTTPRouteRule = z.infer<typeof HTTPRouteRuleSchema>;

/** `HTTPRouteSpec`. */
export const HTTPRouteSpecSchema = z
  .strictObject({
    parentRefs: parentRefsSchema(),
    hostnames: z
      .array(HostnameSchema)
      .max(GATEWAY_LIMITS.hostnames, `must have at most ${GATEWAY_LIMITS.hostnames} items (Gateway API limit)`)
      .optional()
      .describe('Accepted for compatibility; with Service parents Weft matches calls by the Service they address, and does not use hostnames. At most 16.'),
    rules: z
      .array(HTTPRouteRuleSchema)
      .min(1, 'must have at least 1 rule')
      .max(GATEWAY_LIMITS.rules, `must have at most ${GATEWAY_LIMITS.rules} items (Gateway API limit)`)
      .default(() => [{ matches: [{ path: defaultPathMatch() }] }])
      .superRefine(distinctRuleNames<HTTPRouteRule>())
      .superRefine((rules, ctx) => {
        const total = rules.reduce((n, r) => n + r.matches.length, 0);
        if (total > GATEWAY_LIMITS.matchesPerRoute) {
          ctx.addIssue({ code: 'custom', path: [], message: `has ${total} matches in all: at most ${GATEWAY_LIMITS.matchesPerRoute} per route (Gateway API limit)` });
        }
      })
      .describe('Rules, at most 16, names unique. Default: one rule matching every request.'),
  })
  .describe('Desired routing for the parent Services.');
export type HTTPRouteSpec = z.infer<typeof HTTPRouteSpecSchema>;

/** An `HTTPRoute` resource. */
export const HTTPRouteSchema = z
  .strictObject({
    apiVersion: z.literal(GATEWAY_API_VERSION),
    kind: z.literal('HTTPRoute'),
    metadata: ObjectMetaSchema,
    spec: HTTPRouteSpecSchema,
    status: RouteStatusSchema.optional(),
  })
  .describe(
    'Routes HTTP calls to a Service (the Gateway API HTTPRoute, attached through parentRefs as GAMMA defines): matches on path, headers, query and method; weighted backends for canaries and blue/green; header modifiers, rewrites, redirects and mirroring; timeouts and retries.',
  );
export type HTTPRoute = z.infer<typeof HTTPRouteSchema>;
export type HTTPRouteInput = z.input<typeof HTTPRouteSchema>;
