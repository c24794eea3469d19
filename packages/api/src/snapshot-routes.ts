import {
  _default,
  array,
  discriminatedUnion,
  gte,
  int,
  literal,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  refine,
  regex,
  startsWith,
  strictObject,
  string,
  superRefine,
  union,
  zenum,
  type Infer,
} from './zod-mini.js';
import { httpHeaderName as headerName, labels, port } from './snapshot-fields.js';
import { RetryPolicySnapshotSchema } from './snapshot-policies.js';
import { RouteMatchSchema } from './snapshot-route-match.js';
import { RouteFaultSchema } from './snapshot-inbound-policies.js';

export { ROUTE_REGEX_MAX_LENGTH, routeRegexProblem, translateRouteRegex, type RouteRegexTranslation } from './snapshot-regex.js';
export * from './snapshot-route-match.js';

/**
 * The route rules of a service in a proxy snapshot, as the Gateway API's HTTPRoute and
 * GRPCRoute define them once resolved: matches (path, method, headers, query parameters,
 * gRPC service and method), filters (header modifiers, URL rewrite, redirect, mirror) and
 * weighted backends with filters of their own. Rules are in precedence order: a proxy takes
 * the first rule one of whose matches the request meets. Every field added since the first
 * snapshots is optional, so older snapshots stay valid and mean what they meant.
 */

const hostname = string().check(
  minLength(1),
  maxLength(253),
  regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase hostname'),
);

/**
 * Headers a header modifier may not touch: they frame the message or describe one
 * connection (the proxy writes them itself), and `host`, which URLRewrite changes.
 */
export const UNMODIFIABLE_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'content-length',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
]);

const HeaderValueSchema = strictObject({ name: headerName, value: string().check(minLength(1), maxLength(4096)) });

/** Header changes: `set` replaces, `add` appends (comma-joined), `remove` deletes; one action per name. */
export const HeaderModifierSchema = strictObject({
  set: optional(array(HeaderValueSchema).check(maxLength(16))),
  add: optional(array(HeaderValueSchema).check(maxLength(16))),
  remove: optional(array(headerName).check(maxLength(16))),
}).check(
  superRefine((f, ctx) => {
    const seen = new Set<string>();
    const visit = (list: 'set' | 'add' | 'remove', names: readonly string[]): void => {
      names.forEach((n, i) => {
        const lower = n.toLowerCase();
        const path = list === 'remove' ? [list, i] : [list, i, 'name'];
        if (UNMODIFIABLE_HEADERS.has(lower)) ctx.addIssue({ code: 'custom', path, message: `header ${JSON.stringify(n)} cannot be modified` });
        else if (seen.has(lower)) ctx.addIssue({ code: 'custom', path, message: `header ${JSON.stringify(n)} has more than one action` });
        seen.add(lower);
      });
    };
    visit('set', (f.set ?? []).map((h) => h.name));
    visit('add', (f.add ?? []).map((h) => h.name));
    visit('remove', f.remove ?? []);
  }),
);
export type HeaderModifier = Infer<typeof HeaderModifierSchema>;

/** A path change: the whole path, or the prefix the rule's `PathPrefix` match matched. */
export const PathModifierSchema = discriminatedUnion('type', [
  strictObject({ type: literal('ReplaceFullPath'), replaceFullPath: string().check(maxLength(1024), startsWith('/', 'must start with "/"')) }),
  strictObject({
    type: literal('ReplacePrefixMatch'),
    replacePrefixMatch: string().check(
      maxLength(1024),
      refine((v: string) => v === '' || v.startsWith('/'), 'must be empty or start with "/"'),
    ),
  }),
]);
export type PathModifier = Infer<typeof PathModifierSchema>;

/** Rewrites the host and path before forwarding. */
export const UrlRewriteSchema = strictObject({
  hostname: optional(hostname),
  path: optional(PathModifierSchema),
});
export type UrlRewrite = Infer<typeof UrlRewriteSchema>;

/** Answers with a redirect; each part of `Location` omitted is the request's. */
export const RequestRedirectSchema = strictObject({
  scheme: optional(zenum(['http', 'https'])),
  hostname: optional(hostname),
  port: optional(port),
  path: optional(PathModifierSchema),
  statusCode: _default(union([literal(301), literal(302), literal(303), literal(307), literal(308)]), 302),
});
export type RequestRedirect = Infer<typeof RequestRedirectSchema>;

/** Copies a share of requests to a service (or a subset of its endpoints); its answers are discarded. */
export const RequestMirrorSchema = strictObject({
  service: string().check(minLength(1)),
  subset: optional(labels),
  /** Share of requests copied; absent: every request. */
  fraction: optional(
    strictObject({ numerator: number().check(int(), gte(0)), denominator: _default(number().check(int(), gte(1)), 100) }).check(
      refine((f) => f.numerator <= f.denominator, { message: 'numerator must not exceed denominator', path: ['numerator'] }),
    ),
  ),
});
export type RequestMirror = Infer<typeof RequestMirrorSchema>;

/** A filter: `type` names it and the field of the same name (camelCase) configures it. */
export const RouteFilterSchema = discriminatedUnion('type', [
  strictObject({ type: literal('RequestHeaderModifier'), requestHeaderModifier: HeaderModifierSchema }),
  strictObject({ type: literal('ResponseHeaderModifier'), responseHeaderModifier: HeaderModifierSchema }),
  strictObject({ type: literal('URLRewrite'), urlRewrite: UrlRewriteSchema }),
  strictObject({ type: literal('RequestRedirect'), requestRedirect: RequestRedirectSchema }),
  strictObject({ type: literal('RequestMirror'), requestMirror: RequestMirrorSchema }),
]);
export type RouteFilter = Infer<typeof RouteFilterSchema>;

/** The Gateway API's rules for one filter list: only mirrors repeat; no redirect with a rewrite. */
const filterList = array(RouteFilterSchema).check(
  maxLength(16),
  superRefine((filters, ctx) => {
    const seen = new Set<string>();
    filters.forEach((f, i) => {
      if (seen.has(f.type) && f.type !== 'RequestMirror') ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `${f.type} cannot be repeated` });
      seen.add(f.type);
    });
    if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
      ctx.addIssue({ code: 'custom', path: [], message: 'RequestRedirect and URLRewrite exclude each other' });
    }
  }),
);

/** A weighted backend of a route: a service, or the subset of its endpoints with these labels. */
export const BackendRefSchema = strictObject({
  service: string().check(minLength(1)),
  weight: _default(number().check(int(), gte(0), lte(1_000_000)), 1),
  subset: optional(labels),
  /** Filters for the requests this backend receives, after the rule's. */
  filters: optional(filterList),
});
export type BackendRef = Infer<typeof BackendRefSchema>;

const redirects = (filters: readonly RouteFilter[] | undefined): boolean => (filters ?? []).some((f) => f.type === 'RequestRedirect');

const replacesPrefix = (filters: readonly RouteFilter[] | undefined): boolean =>
  (filters ?? []).some(
    (f) =>
      (f.type === 'URLRewrite' && f.urlRewrite.path?.type === 'ReplacePrefixMatch') ||
      (f.type === 'RequestRedirect' && f.requestRedirect.path?.type === 'ReplacePrefixMatch'),
  );

export const RouteRuleSchema = strictObject({
  name: optional(string().check(minLength(1))),
  matches: _default(array(RouteMatchSchema), [{ path: { type: 'PathPrefix', value: '/' } }]),
  /** Applied to every request of the rule, before the chosen backend's. */
  filters: optional(filterList),
  /** Where requests go, split by weight; empty only for a rule that redirects. */
  backendRefs: array(BackendRefSchema),
  /**
   * HTTPRoute `timeouts` in milliseconds (0 disables one), or the Mesh's route defaults:
   * `requestMs` for the whole exchange, retries included, `backendRequestMs` for each
   * attempt. Absent: no timeout but the proxy's `limits.responseTimeoutMs`.
   */
  timeouts: optional(
    strictObject({ requestMs: optional(number().check(int(), gte(0))), backendRequestMs: optional(number().check(int(), gte(0))) }).check(
      refine((t) => t.requestMs === undefined || t.requestMs === 0 || t.backendRequestMs === undefined || t.backendRequestMs <= t.requestMs, {
        message: 'backendRequestMs cannot be longer than requestMs',
        path: ['backendRequestMs'],
      }),
    ),
  ),
  /** HTTPRoute `retry`, or the Mesh's route default; absent: no retries. */
  retry: optional(RetryPolicySnapshotSchema),
  /** FaultPolicy faults the calling proxy injects into the rule's requests before forwarding. */
  fault: optional(RouteFaultSchema),
}).check(
  superRefine((rule, ctx) => {
    if (redirects(rule.filters)) {
      if (rule.backendRefs.length > 0) ctx.addIssue({ code: 'custom', path: ['backendRefs'], message: 'a rule that redirects has no backendRefs' });
    } else if (rule.backendRefs.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['backendRefs'], message: 'must have at least one backend (or a RequestRedirect filter)' });
    }
    const prefixNeeded = replacesPrefix(rule.filters) || rule.backendRefs.some((b) => replacesPrefix(b.filters));
    if (prefixNeeded && !rule.matches.every((m) => m.path.type === 'PathPrefix' && m.grpc === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['matches'], message: 'ReplacePrefixMatch needs every match of the rule to be a PathPrefix path match' });
    }
  }),
);
export type RouteRule = Infer<typeof RouteRuleSchema>;
