import { z } from 'zod';
import { GRPC_STATUS_NAMES } from '../grpc-status.js';
import { regularExpression } from './fields.js';
import {
  GATEWAY_LIMITS,
  HTTPHeaderFilterSchema,
  HostnameSchema,
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
 * `GRPCRoute` (`gateway.networking.k8s.io/v1`), as the Gateway API defines it, attached to
 * a Service (GAMMA): gRPC calls matched by service, method and headers, split across
 * weighted backends. Limits are the Gateway API's (16 rules, 8 matches per rule, 128
 * matches per route).
 */

const GRPC_SERVICE = /^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$/i;
const GRPC_METHOD = /^[A-Za-z_][A-Za-z_0-9]*$/;

/** `GRPCMethodMatch`: the gRPC service and/or method (`/<service>/<method>`). */
export const GRPCMethodMatchSchema = z
  .strictObject({
    type: ValueMatchTypeSchema.default('Exact').describe('`Exact` (default) or `RegularExpression` (RE2 subset, whole value).'),
    service: z.string().max(1024).optional().describe('Fully qualified gRPC service, e.g. `helloworld.Greeter`; omitted, any service.'),
    method: z.string().max(1024).optional().describe('Method name, e.g. `SayHello`; omitted, any method.'),
  })
  .superRefine((m, ctx) => {
    if (m.service === undefined && m.method === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: "one or both of 'service' or 'method' must be specified" });
      return;
    }
    for (const field of ['service', 'method'] as const) {
      const value = m[field];
      if (value === undefined) continue;
      if (m.type === 'RegularExpression') {
        const r = regularExpression().safeParse(value);
        if (!r.success) ctx.addIssue({ code: 'custom', path: [field], message: r.error.issues[0]?.message ?? 'invalid regular expression' });
      } else if (!(field === 'service' ? GRPC_SERVICE : GRPC_METHOD).test(value)) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: field === 'service' ? 'must be a gRPC service name such as "helloworld.Greeter"' : 'must be a gRPC method name such as "SayHello" (letters, digits, "_")',
        });
      }
    }
  })
  .describe('Matches the gRPC service and/or method.');
export type GRPCMethodMatch = z.infer<typeof GRPCMethodMatchSchema>;

/** `GRPCRouteMatch`: method and headers must all match (AND). */
export const GRPCRouteMatchSchema = z
  .strictObject({
    method: GRPCMethodMatchSchema.optional().describe('Service/method match; omitted, every method.'),
    headers: headerMatchList().optional().describe('Metadata (header) matches, all of which must hold. At most 16, names distinct.'),
  })
  .describe('Conditions a call must all meet.');
export type GRPCRouteMatch = z.infer<typeof GRPCRouteMatchSchema>;

/** `GRPCRouteFilter`: a `type` and its member (no redirects or rewrites in gRPC). */
export const GRPCRouteFilterSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('RequestHeaderModifier'), requestHeaderModifier: HTTPHeaderFilterSchema }),
    z.strictObject({ type: z.literal('ResponseHeaderModifier'), responseHeaderModifier: HTTPHeaderFilterSchema }),
    z.strictObject({ type: z.literal('RequestMirror'), requestMirror: RequestMirrorFilterSchema }),
  ])
  .describe('A processing step: RequestHeaderModifier, ResponseHeaderModifier or RequestMirror, configured by the field of the same name.');
export type GRPCRouteFilter = z.infer<typeof GRPCRouteFilterSchema>;

const filterList = () =>
  z
    .array(GRPCRouteFilterSchema)
    .max(GATEWAY_LIMITS.filters, `must have at most ${GATEWAY_LIMITS.filters} items (Gateway API limit)`)
    .superRefine((filters, ctx) => {
      const seen = new Map<string, number>();
      filters.forEach((f, i) => {
        const first = seen.get(f.type);
        if (first !== undefined && f.type !== 'RequestMirror') {
          ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `${f.type} filter cannot be repeated (first at index ${first})` });
        }
        if (first === undefined) seen.set(f.type, i);
      });
    });

/** `GRPCBackendRef`. */
export const GRPCBackendRefSchema = z
  .strictObject({
    ...backendObjectReferenceShape,
    weight: backendWeight(),
    filters: filterList().optional().describe('Filters applied only to calls sent to this backend.'),
  })
  .superRefine(withBackendChecks)
  .describe('A backend Service with its share of calls (`weight`).');
export type GRPCBackendRef = z.infer<typeof GRPCBackendRefSchema>;

/** `GRPCRouteRule`. */
/**
 * `retry` of a GRPCRoute rule: a Weft extension (the Gateway API's GRPCRoute has none yet),
 * shaped as HTTPRoute's GEP-1731 `retry` with gRPC status names as `codes`.
 */
export const GRPCRouteRetrySchema = z
  .strictObject({
    codes: z
      .array(z.enum(GRPC_STATUS_NAMES))
      .max(16, 'must have at most 16 items')
      .refine((c) => new Set(c).size === c.length, 'must not repeat a status')
      .optional()
      .describe('gRPC statuses to retry on (e.g. UNAVAILABLE), read from a response that carries its status in its head; connect failures and refused streams are always retried.'),
    ...retryAttemptsAndBackoff,
  })
  .describe('Retries (a Weft extension to GRPCRoute). A call is only retried when its request messages fit the bounded replay buffer.');
export type GRPCRouteRetry = z.infer<typeof GRPCRouteRetrySchema>;

export const GRPCRouteRuleSchema = z
  .strictObject({
    name: ruleName(),
    matches: z
      .array(GRPCRouteMatchSchema)
      .max(GATEWAY_LIMITS.grpcMatchesPerRule, `must have at most ${GATEWAY_LIMITS.grpcMatchesPerRule} items (Gateway API limit)`)
      .optional()
      .describe('Conditions, any one of which selects this rule (OR). Omitted or empty: every call. At most 8.'),
    filters: filterList().optional().describe('Filters applied to every call of this rule. At most 16; only RequestMirror may repeat.'),
    backendRefs: z.array(GRPCBackendRefSchema).max(GATEWAY_LIMITS.backendRefs, `must have at most ${GATEWAY_LIMITS.backendRefs} items (Gateway API limit)`).optional().describe('Where matching calls go, split by weight. At most 16.'),
    retry: GRPCRouteRetrySchema.optional(),
  })
  .describe('A rule: calls meeting any of `matches` pass `filters` and go to `backendRefs`.');
export type GRPCRouteRule = z.infer<typeof GRPCRouteRuleSchema>;

/** `GRPCRouteSpec`. */
export const GRPCRouteSpecSchema = z
  .strictObject({
    parentRefs: parentRefsSchema(),
    hostnames: z
      .array(HostnameSchema)
      .max(GATEWAY_LIMITS.hostnames, `must have at most ${GATEWAY_LIMITS.hostnames} items (Gateway API limit)`)
      .optional()
      .describe('Accepted for compatibility; with Service parents Weft matches calls by the Service they address, and does not use hostnames. At most 16.'),
    rules: z
      .array(GRPCRouteRuleSchema)
      .max(GATEWAY_LIMITS.rules, `must have at most ${GATEWAY_LIMITS.rules} items (Gateway API limit)`)
      .superRefine(distinctRuleNames<GRPCRouteRule>())
      .superRefine((rules, ctx) => {
        const total = rules.reduce((n, r) => n + (r.matches?.length ?? 0), 0);
        if (total > GATEWAY_LIMITS.matchesPerRoute) {
          ctx.addIssue({ code: 'custom', path: [], message: `has ${total} matches in all: at most ${GATEWAY_LIMITS.matchesPerRoute} per route (Gateway API limit)` });
        }
      })
      .optional()
      .describe('Rules, at most 16, names unique.'),
  })
  .describe('Desired gRPC routing for the parent Services.');
export type GRPCRouteSpec = z.infer<typeof GRPCRouteSpecSchema>;

/** A `GRPCRoute` resource. */
export const GRPCRouteSchema = z
  .strictObject({
    apiVersion: z.literal(GATEWAY_API_VERSION),
    kind: z.literal('GRPCRoute'),
    metadata: ObjectMetaSchema,
    spec: GRPCRouteSpecSchema,
    status: RouteStatusSchema.optional(),
  })
  .describe('Routes gRPC calls to a Service (the Gateway API GRPCRoute, attached through parentRefs as GAMMA defines): matches on service, method and metadata; weighted backends; header modifiers and mirroring.');
export type GRPCRoute = z.infer<typeof GRPCRouteSchema>;
export type GRPCRouteInput = z.input<typeof GRPCRouteSchema>;
