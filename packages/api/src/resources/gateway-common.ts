import { z } from 'zod';
import { DurationSchema } from './duration.js';
import { distinctBy, dnsLabel, dnsSubdomain, headerName, portNumber, regularExpression } from './fields.js';
import { GATEWAY_API_GROUP, conditionList } from './meta.js';

/**
 * Types the Gateway API's HTTPRoute and GRPCRoute share (`gateway.networking.k8s.io/v1`),
 * with the Gateway API's own field names, defaults and validation limits, including the
 * rules its CRDs express in CEL. Weft implements the Mesh profile (GAMMA): routes attach
 * to a `Service` through `parentRefs`, and send to `Service` backends.
 *
 * Where the Gateway API leaves a choice to the implementation, Weft's is stated here:
 * regular expressions are RE2 syntax, in the subset on which RE2 and JavaScript agree (no
 * backreferences, lookaround or inline flags), and must match the whole value; the group
 * `""` (the Kubernetes core group) names Weft's own `Service` kind, so that GAMMA manifests
 * written for Kubernetes apply unchanged.
 */

/** The group and kind of a mesh parent or backend: a Service in the core group. */
const SERVICE_KIND = 'Service';

/** A hostname that may start with a `*.` wildcard label (Gateway API `Hostname`). */
export const HostnameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a lowercase hostname, optionally starting with a "*." wildcard label; IP addresses are not allowed',
  )
  .describe('A hostname (RFC 1123, lowercase, no IP address), optionally prefixed by a `*.` wildcard label.');

/** A hostname without wildcard (Gateway API `PreciseHostname`). */
export const PreciseHostnameSchema = dnsSubdomain().describe('A hostname (RFC 1123, lowercase), no wildcard, no IP address.');

/** The Gateway API's `SectionName`: a rule name, port name or listener name. */
export const SectionNameSchema = dnsSubdomain();

/**
 * Checks the rules the Gateway API sets on a kind/group pair of a mesh reference: Weft's
 * mesh parents and backends are Services, in the core group `""`.
 */
const refineServiceRef =
  (kindMessage: string) =>
  (ref: { group: string; kind: string }, ctx: z.RefinementCtx<{ group: string; kind: string }>): void => {
    if (ref.kind !== SERVICE_KIND) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: `${kindMessage} (got kind ${JSON.stringify(ref.kind)})` });
    } else if (ref.group !== '') {
      ctx.addIssue({
        code: 'custom',
        path: ['group'],
        message: `kind Service is in the core group: set group: "" (got ${JSON.stringify(ref.group)})`,
      });
    }
  };

const groupSchema = z
  .string()
  .max(253)
  .regex(/^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be "" (the core group) or a DNS name');
const kindSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, 'must be a kind name such as "Service"');
const objectName = z.string().min(1).max(253);

/**
 * `ParentReference`: what a route attaches to. Weft attaches routes to Services only (GAMMA),
 * so `group: ""` and `kind: Service` must be written: the Gateway API's defaults name a
 * Gateway, which a mesh does not have.
 */
export const ParentReferenceSchema = z
  .strictObject({
    group: groupSchema
      .default(GATEWAY_API_GROUP)
      .describe('Group of the parent. Must be `""` (the core group) for a Service; the Gateway API default is `gateway.networking.k8s.io`.'),
    kind: kindSchema.default('Gateway').describe('Kind of the parent. Must be `Service` in Weft (the Gateway API default is `Gateway`).'),
    namespace: dnsLabel()
      .optional()
      .describe('Namespace of the parent Service; defaults to the route\'s. A route in another namespace than its Service is a "consumer" route: it applies only to callers in the route\'s namespace.'),
    name: objectName.describe('Name of the parent Service.'),
    sectionName: SectionNameSchema.optional().describe('Name of one port of the Service; omitted, the route applies to every port of a matching protocol.'),
    port: portNumber().optional().describe('Port of the Service the route applies to; omitted, every port of a matching protocol.'),
  })
  .superRefine(refineServiceRef('Weft attaches routes to Services only (the Gateway API mesh profile): set kind: Service and group: ""'))
  .describe('A Service this route attaches to (GAMMA): the route applies to calls to that Service.');
export type ParentReference = z.infer<typeof ParentReferenceSchema>;

/** `parentRefs` with the Gateway API's limits, and Weft's: at least one Service. */
export const parentRefsSchema = () =>
  z
    .array(ParentReferenceSchema)
    .min(1, 'must name at least one Service: a route without a parent applies to nothing')
    .max(32, 'must have at most 32 items (Gateway API limit)')
    .superRefine((refs, ctx) => {
      // The Gateway API: references to the same parent must each set sectionName or port, and differ.
      const key = (r: ParentReference): string => `${r.group}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
      const sub = (r: ParentReference): string => `${r.sectionName ?? ''}:${r.port ?? ''}`;
      refs.forEach((r, i) => {
        for (let j = 0; j < i; j++) {
          const o = refs[j];
          if (o === undefined || key(o) !== key(r)) continue;
          if (sub(o) === sub(r) || sub(o) === ':' || sub(r) === ':') {
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `parentRefs[${j}] names the same Service: references to one parent must each set sectionName or port, and differ`,
            });
            return;
          }
        }
      });
    })
    .describe('The Services this route attaches to (GAMMA). At least one, at most 32.');

/**
 * `BackendObjectReference` as Weft reads it: a Service (core group), with the port
 * required, as the Gateway API requires for Service references.
 */
export const backendObjectReferenceShape = {
  group: groupSchema.default('').describe('Group of the backend: `""` (the core group) for a Service.'),
  kind: kindSchema.default(SERVICE_KIND).describe('Kind of the backend: `Service`.'),
  name: objectName.describe('Name of the backend Service (which may be a subset Service: see `Service.spec.subsetOf`).'),
  namespace: dnsLabel().optional().describe("Namespace of the backend Service; defaults to the route's."),
  port: portNumber().optional().describe('Port of the backend Service. Required (as the Gateway API requires for Service backends).'),
};

const refineBackendObjectReference = (ref: { group: string; kind: string; port?: number | undefined }, ctx: z.RefinementCtx<{ group: string; kind: string; port?: number | undefined }>): void => {
  refineServiceRef('Weft sends to Service backends only: set kind: Service and group: ""')(ref, ctx);
  if (ref.port === undefined && ref.kind === SERVICE_KIND && ref.group === '') {
    ctx.addIssue({ code: 'custom', path: ['port'], message: 'must be set: a Service backend needs its port (Gateway API rule)' });
  }
};

/** `BackendObjectReference`: where mirrored requests go. */
export const BackendObjectReferenceSchema = z
  .strictObject(backendObjectReferenceShape)
  .superRefine(refineBackendObjectReference)
  .describe('A backend Service and port.');
export type BackendObjectReference = z.infer<typeof BackendObjectReferenceSchema>;

/** Adds the backend-reference checks to a schema whose shape extends {@link backendObjectReferenceShape}. */
export const withBackendChecks = refineBackendObjectReference;

/** `weight` of a backend reference, as the Gateway API defines it. */
export const backendWeight = () =>
  z
    .number()
    .int('must be a whole number')
    .min(0, 'must be from 0 to 1000000')
    .max(1_000_000, 'must be from 0 to 1000000')
    .default(1)
    .describe('Share of requests for this backend: weight / (sum of weights). Not a percentage; 0 sends nothing. Default 1.');

/** `HTTPHeader`: a header name and value for header modifiers. */
export const HTTPHeaderSchema = z.strictObject({
  name: headerName().describe('Header name (case-insensitive).'),
  value: z.string().min(1).max(4096).describe('Header value; several values are written comma-separated.'),
});
export type HTTPHeader = z.infer<typeof HTTPHeaderSchema>;

/**
 * `HTTPHeaderFilter`: set, add or remove headers. Only one action per header name is
 * allowed (the Gateway API's rule), compared case-insensitively.
 */
export const HTTPHeaderFilterSchema = z
  .strictObject({
    set: z
      .array(HTTPHeaderSchema)
      .max(16, 'must have at most 16 items (Gateway API limit)')
      .superRefine(distinctBy((h: HTTPHeader) => h.name.toLowerCase(), 'header', 'name'))
      .optional()
      .describe('Headers to set, replacing any value they had.'),
    add: z
      .array(HTTPHeaderSchema)
      .max(16, 'must have at most 16 items (Gateway API limit)')
      .superRefine(distinctBy((h: HTTPHeader) => h.name.toLowerCase(), 'header', 'name'))
      .optional()
      .describe('Headers to add, after any existing values.'),
    remove: z
      .array(headerName())
      .max(16, 'must have at most 16 items (Gateway API limit)')
      .superRefine(distinctBy((h: string) => h.toLowerCase(), 'header'))
      .optional()
      .describe('Header names to remove.'),
  })
  .superRefine((f, ctx) => {
    const seen = new Map<string, string>();
    const visit = (list: string, names: readonly string[]): void => {
      names.forEach((n, i) => {
        const k = n.toLowerCase();
        const other = seen.get(k);
        if (other !== undefined && other !== list) {
          ctx.addIssue({
            code: 'custom',
            path: list === 'remove' ? [list, i] : [list, i, 'name'],
            message: `header ${JSON.stringify(n)} is also in ${other}: only one action per header is allowed`,
          });
        }
        seen.set(k, list);
      });
    };
    visit('set', (f.set ?? []).map((h) => h.name));
    visit('add', (f.add ?? []).map((h) => h.name));
    visit('remove', f.remove ?? []);
  })
  .describe('Header changes: `set` replaces, `add` appends, `remove` deletes; one action per header name.');
export type HTTPHeaderFilter = z.infer<typeof HTTPHeaderFilterSchema>;

/** `Fraction`: numerator / denominator (default 100). */
export const FractionSchema = z
  .strictObject({
    numerator: z.number().int().min(0).describe('Requests out of `denominator`.'),
    denominator: z.number().int().min(1).default(100).describe('Default 100.'),
  })
  .refine((f) => f.numerator <= f.denominator, { message: 'numerator must be less than or equal to denominator', path: ['numerator'] });

/** `HTTPRequestMirrorFilter`: copy requests to another backend, ignoring its responses. */
export const RequestMirrorFilterSchema = z
  .strictObject({
    backendRef: BackendObjectReferenceSchema.describe('Where copies go; its responses are discarded.'),
    percent: z.number().int().min(0).max(100).optional().describe('Share of requests copied, 0 to 100. Exclusive with `fraction`; without either, every request is copied.'),
    fraction: FractionSchema.optional().describe('Share of requests copied as a fraction. Exclusive with `percent`.'),
  })
  .refine((m) => !(m.percent !== undefined && m.fraction !== undefined), { message: 'only one of percent or fraction may be specified', path: ['fraction'] })
  .describe('Copies a share of requests to another backend; the copy never delays or fails the original.');
export type RequestMirrorFilter = z.infer<typeof RequestMirrorFilterSchema>;

/** Match types for header, query and gRPC method matches. */
export const ValueMatchTypeSchema = z.enum(['Exact', 'RegularExpression']);

/**
 * A header match (`HTTPHeaderMatch`, `GRPCHeaderMatch`). `RegularExpression` is RE2 (subset),
 * matched against the whole value.
 */
export const HeaderMatchSchema = z
  .strictObject({
    type: ValueMatchTypeSchema.default('Exact').describe('`Exact` (default) or `RegularExpression` (RE2 syntax, subset: no backreferences, lookaround or inline flags; must match the whole value).'),
    name: headerName().describe('Header name, case-insensitive.'),
    value: z.string().min(1).max(4096).describe('Value to match.'),
  })
  .superRefine((m, ctx) => {
    if (m.type === 'RegularExpression') {
      const r = regularExpression().safeParse(m.value);
      if (!r.success) ctx.addIssue({ code: 'custom', path: ['value'], message: r.error.issues[0]?.message ?? 'invalid regular expression' });
    }
  });
export type HeaderMatch = z.infer<typeof HeaderMatchSchema>;

/** Header matches, at most 16, names distinct (case-insensitive, as the Gateway API compares them). */
export const headerMatchList = () =>
  z
    .array(HeaderMatchSchema)
    .max(16, 'must have at most 16 items (Gateway API limit)')
    .superRefine(distinctBy((h: HeaderMatch) => h.name.toLowerCase(), 'header', 'name'));

/** Reasons a route's `Accepted` or `ResolvedRefs` condition carries (the Gateway API's). */
export const ROUTE_CONDITION_REASONS = [
  'Accepted',
  'NoMatchingParent',
  'UnsupportedValue',
  'Pending',
  'IncompatibleFilters',
  'ResolvedRefs',
  'RefNotPermitted',
  'InvalidKind',
  'BackendNotFound',
  'UnsupportedProtocol',
] as const;

/** `RouteParentStatus`: the route's conditions with respect to one parent. */
export const RouteParentStatusSchema = z.strictObject({
  parentRef: z
    .strictObject({
      group: groupSchema.optional(),
      kind: kindSchema.optional(),
      namespace: dnsLabel().optional(),
      name: objectName,
      sectionName: SectionNameSchema.optional(),
      port: portNumber().optional(),
    })
    .describe('The parentRef this entry is about, as written in spec.'),
  controllerName: z.string().min(1).max(253).describe('Who wrote this entry: `weft.dev/control-plane`.'),
  conditions: conditionList().describe('`Accepted`, `ResolvedRefs` and `PartiallyInvalid`, as the Gateway API defines them.'),
});

/**
 * A route's status: the Gateway API's per-parent `parents`, plus the same top-level
 * `conditions` every Weft kind carries (an aggregate, so tools read every kind alike).
 */
export const RouteStatusSchema = z
  .strictObject({
    parents: z.array(RouteParentStatusSchema).max(32, 'must have at most 32 items (Gateway API limit)').default([]).describe('Status per parent Service (Gateway API `RouteStatus`).'),
    conditions: conditionList().describe('Aggregate conditions (Weft): `Accepted` is True when every parent accepted the route.'),
  })
  .describe('Written by the control plane. Optional on input, validated, then discarded and replaced.');
export type RouteStatus = z.infer<typeof RouteStatusSchema>;

/** `name` of a route rule (Gateway API `SectionName`), unique within the route. */
export const ruleName = () =>
  SectionNameSchema.optional().describe('Name of the rule, unique within the route; policies (RateLimitPolicy, FaultPolicy) target a rule by it, and metrics carry it.');

/** A `superRefine` for rule lists: rule names unique within the route. */
export const distinctRuleNames = <T extends { name?: string | undefined }>() => distinctBy((r: T) => r.name, 'rule name', 'name');

/** Re-exported limits so tests and docs name them once. */
export const GATEWAY_LIMITS = {
  parentRefs: 32,
  hostnames: 16,
  rules: 16,
  httpMatchesPerRule: 64,
  grpcMatchesPerRule: 8,
  matchesPerRoute: 128,
  filters: 16,
  backendRefs: 16,
  headerMatches: 16,
  queryParamMatches: 16,
} as const;

/** `attempts` and `backoff` of a rule's `retry`: the same on HTTPRoute and GRPCRoute (whose `codes` differ). */
export const retryAttemptsAndBackoff = {
  attempts: z.number().int('must be a whole number').min(0, 'must be at least 0').optional().describe("Retries after the first attempt; 0 disables retries. The retry budget of the backend's DestinationPolicy caps them too."),
  backoff: DurationSchema.optional().describe('Base interval of the exponential backoff (with jitter) between attempts.'),
};
