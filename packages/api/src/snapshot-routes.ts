import { z } from 'zod';
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

const hostname = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a lowercase hostname');

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

const HeaderValueSchema = z.strictObject({ name: headerName, value: z.string().min(1).max(4096) });

/** Header changes: `set` replaces, `add` appends (comma-joined), `remove` deletes; one action per name. */
export const HeaderModifierSchema = z
  .strictObject({
    set: z.array(HeaderValueSchema).max(16).optional(),
    add: z.array(HeaderValueSchema).max(16).optional(),
    remove: z.array(headerName).max(16).optional(),
  })
  .superRefine((f, ctx) => {
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
  });
export type HeaderModifier = z.infer<typeof HeaderModifierSchema>;

/** A path change: the whole path, or the prefix the rule's `PathPrefix` match matched. */
export const PathModifierSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ReplaceFullPath'), replaceFullPath: z.string().max(1024).startsWith('/', 'must start with "/"') }),
  z.strictObject({
    type: z.literal('ReplacePrefixMatch'),
    replacePrefixMatch: z.string().max(1024).refine((v) => v === '' || v.startsWith('/'), 'must be empty or start with "/"'),
  }),
]);
export type PathModifier = z.infer<typeof PathModifierSchema>;

/** Rewrites the host and path before forwarding. */
export const UrlRewriteSchema = z.strictObject({
  hostname: hostname.optional(),
  path: PathModifierSchema.optional(),
});
export type UrlRewrite = z.infer<typeof UrlRewriteSchema>;

/** Answers with a redirect; each part of `Location` omitted is the request's. */
export const RequestRedirectSchema = z.strictObject({
  scheme: z.enum(['http', 'https']).optional(),
  hostname: hostname.optional(),
  port: port.optional(),
  path: PathModifierSchema.optional(),
  statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)]).default(302),
});
export type RequestRedirect = z.infer<typeof RequestRedirectSchema>;

/** Copies a share of requests to a service (or a subset of its endpoints); its answers are discarded. */
export const RequestMirrorSchema = z.strictObject({
  service: z.string().min(1),
  subset: labels.optional(),
  /** Share of requests copied; absent: every request. */
  fraction: z
    .strictObject({ numerator: z.number().int().min(0), denominator: z.number().int().min(1).default(100) })
    .refine((f) => f.numerator <= f.denominator, { message: 'numerator must not exceed denominator', path: ['numerator'] })
    .optional(),
});
export type RequestMirror = z.infer<typeof RequestMirrorSchema>;

/** A filter: `type` names it and the field of the same name (camelCase) configures it. */
export const RouteFilterSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: HeaderModifierSchema }),
  z.strictObject({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: HeaderModifierSchema }),
  z.strictObject({ type: z.literal('URLRewrite'), urlRewrite: UrlRewriteSchema }),
  z.strictObject({ type: z.literal('RequestRedirect'), requestRedirect: RequestRedirectSchema }),
  z.strictObject({ type: z.literal('RequestMirror'), requestMirror: RequestMirrorSchema }),
]);
export type RouteFilter = z.infer<typeof RouteFilterSchema>;

/** The Gateway API's rules for one filter list: only mirrors repeat; no redirect with a rewrite. */
const filterList = z
  .array(RouteFilterSchema)
  .max(16)
  .superRefine((filters, ctx) => {
    const seen = new Set<string>();
    filters.forEach((f, i) => {
      if (seen.has(f.type) && f.type !== 'RequestMirror') ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `${f.type} cannot be repeated` });
      seen.add(f.type);
    });
    if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
      ctx.addIssue({ code: 'custom', path: [], message: 'RequestRedirect and URLRewrite exclude each other' });
    }
  });

/** A weighted backend of a route: a service, or the subset of its endpoints with these labels. */
export const BackendRefSchema = z.strictObject({
  service: z.string().min(1),
  weight: z.number().int().min(0).max(1_000_000).default(1),
  subset: labels.optional(),
  /** Filters for the requests this backend receives, after the rule's. */
  filters: filterList.optional(),
});
export type BackendRef = z.infer<typeof BackendRefSchema>;

const redirects = (filters: readonly RouteFilter[] | undefined): boolean => (filters ?? []).some((f) => f.type === 'RequestRedirect');

const replacesPrefix = (filters: readonly RouteFilter[] | undefined): boolean =>
  (filters ?? []).some(
    (f) =>
      (f.type === 'URLRewrite' && f.urlRewrite.path?.type === 'ReplacePrefixMatch') ||
      (f.type === 'RequestRedirect' && f.requestRedirect.path?.type === 'ReplacePrefixMatch'),
  );

export const RouteRuleSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    matches: z.array(RouteMatchSchema).default([{ path: { type: 'PathPrefix', value: '/' } }]),
    /** Applied to every request of the rule, before the chosen backend's. */
    filters: filterList.optional(),
    /** Where requests go, split by weight; empty only for a rule that redirects. */
    backendRefs: z.array(BackendRefSchema),
    /**
     * HTTPRoute `timeouts` in milliseconds (0 disables one), or the Mesh's route defaults:
     * `requestMs` for the whole exchange, retries included, `backendRequestMs` for each
     * attempt. Absent: no timeout but the proxy's `limits.responseTimeoutMs`.
     */
    timeouts: z
      .strictObject({ requestMs: z.number().int().min(0).optional(), backendRequestMs: z.number().int().min(0).optional() })
      .refine((t) => t.requestMs === undefined || t.requestMs === 0 || t.backendRequestMs === undefined || t.backendRequestMs <= t.requestMs, {
        message: 'backendRequestMs cannot be longer than requestMs',
        path: ['backendRequestMs'],
      })
      .optional(),
    /** HTTPRoute `retry`, or the Mesh's route default; absent: no retries. */
    retry: RetryPolicySnapshotSchema.optional(),
    /** FaultPolicy faults the calling proxy injects into the rule's requests before forwarding. */
    fault: RouteFaultSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if (redirects(rule.filters)) {
      if (rule.backendRefs.length > 0) ctx.addIssue({ code: 'custom', path: ['backendRefs'], message: 'a rule that redirects has no backendRefs' });
    } else if (rule.backendRefs.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['backendRefs'], message: 'must have at least one backend (or a RequestRedirect filter)' });
    }
    const prefixNeeded = replacesPrefix(rule.filters) || rule.backendRefs.some((b) => replacesPrefix(b.filters));
    if (prefixNeeded && !rule.matches.every((m) => m.path.type === 'PathPrefix' && m.grpc === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['matches'], message: 'ReplacePrefixMatch needs every match of the rule to be a PathPrefix path match' });
    }
  });
export type RouteRule = z.infer<typeof RouteRuleSchema>;
