import { z } from 'zod';
import { headerName } from './fields.js';
import { ObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';
import { ServiceTargetRefSchema } from './policy-target.js';

/**
 * `AuthorizationPolicy`: who may call a Service, and what. Evaluation, for each request
 * arriving at a Service (the same code runs in the proxy and in `weft authz check`):
 *
 * 1. If any DENY policy for the Service has a matching rule, the request is denied.
 * 2. Else, if any ALLOW policy for the Service has a matching rule, it is allowed.
 * 3. Else, if at least one ALLOW policy applies to the Service, it is denied (declaring
 *    who may call a Service means everyone else may not, as in Istio and Linkerd).
 * 4. Else the Mesh's `spec.authorization.defaultAction` decides (ALLOW unless set).
 *
 * A denied HTTP call gets 403 with an `x-weft-error` header; a gRPC call gets
 * `PERMISSION_DENIED`.
 *
 * Value syntax (Istio's): every string a rule matches against is exact, unless it is `*`
 * (any value; for a source field: any authenticated caller), ends with `*` (a prefix:
 * `/api/*`), or starts with `*` (a suffix: `*.json`). A `*` anywhere else is an error.
 * Within a field the values are alternatives (OR); the `notX` variant of a field excludes
 * what it matches; the fields of one `from` or `to` entry must all hold (AND).
 */

/** How a wildcard value is read: the whole syntax, once, for messages and tests. */
export const WILDCARD_SYNTAX = 'exact, "*" (any), "prefix*" or "*suffix"';

type PatternCheck = (fixed: string, kind: 'exact' | 'prefix' | 'suffix') => string | undefined;

/** A list of wildcard values (see the file comment) whose fixed part `check` validates. */
const patternList = (what: string, check: PatternCheck) =>
  z
    .array(
      z
        .string()
        .min(1, 'must not be empty')
        .max(1024)
        .superRefine((value, ctx) => {
          if (value === '*') return;
          const star = value.indexOf('*');
          if (star >= 0 && star !== 0 && star !== value.length - 1) {
            ctx.addIssue({ code: 'custom', message: `"*" may only start or end a value (${WILDCARD_SYNTAX}); got ${JSON.stringify(value)}` });
            return;
          }
          if (value.startsWith('*') && value.endsWith('*')) {
            ctx.addIssue({ code: 'custom', message: `a value may be a prefix or a suffix, not both (${WILDCARD_SYNTAX}); got ${JSON.stringify(value)}` });
            return;
          }
          const kind = value.startsWith('*') ? 'suffix' : value.endsWith('*') ? 'prefix' : 'exact';
          const fixed = kind === 'suffix' ? value.slice(1) : kind === 'prefix' ? value.slice(0, -1) : value;
          const problem = check(fixed, kind);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
    )
    .min(1, `must list at least one ${what}`)
    .max(64);

const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+\/ns\/[a-z0-9]([-a-z0-9]*[a-z0-9])?\/sa\/[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const principalCheck: PatternCheck = (fixed, kind) => {
  if (kind === 'exact' && !SPIFFE_ID.test(fixed)) return `must be a SPIFFE ID such as "spiffe://cluster.local/ns/default/sa/reviews", or a pattern (${WILDCARD_SYNTAX})`;
  if (kind === 'prefix' && !fixed.startsWith('spiffe://')) return 'a prefix must start with "spiffe://"';
  return undefined;
};
const NAME_CHARS = /^[a-z0-9.-]*$/;
const namespaceCheck: PatternCheck = (fixed, kind) =>
  NAME_CHARS.test(fixed) && (kind !== 'exact' || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(fixed))
    ? undefined
    : `must be a namespace name, or a pattern (${WILDCARD_SYNTAX})`;
const serviceCheck: PatternCheck = (fixed, kind) =>
  NAME_CHARS.test(fixed) && (kind !== 'exact' || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/.test(fixed))
    ? undefined
    : `must be a service as NAME (in the policy's namespace) or NAME.NAMESPACE, or a pattern (${WILDCARD_SYNTAX})`;
const pathCheck: PatternCheck = (fixed, kind) => (kind !== 'suffix' && !fixed.startsWith('/') ? 'must start with "/" (or be a "*suffix" pattern)' : undefined);
const methodCheck: PatternCheck = (fixed) => (/^[A-Z]*$/.test(fixed) ? undefined : 'must be an HTTP method in upper case, e.g. "GET" (gRPC calls are "POST")');
const anyValue: PatternCheck = () => undefined;

/** At least one field must be set in a `from` or `to` entry: an empty entry is a mistake. */
const notEmpty = (what: string) => (entry: Record<string, unknown>, ctx: z.RefinementCtx<Record<string, unknown>>) => {
  if (Object.values(entry).every((v) => v === undefined)) ctx.addIssue({ code: 'custom', message: `must set at least one field of a ${what}` });
};

/** `from`: who is calling. Fields AND together; values within a field OR. */
export const AuthorizationSourceSchema = z
  .strictObject({
    principals: patternList('principal', principalCheck)
      .optional()
      .describe('SPIFFE IDs of the caller (from its mTLS certificate), e.g. `spiffe://cluster.local/ns/shop/sa/frontend`; `*` is any authenticated caller.'),
    notPrincipals: patternList('principal', principalCheck).optional().describe('SPIFFE IDs that must not match.'),
    namespaces: patternList('namespace', namespaceCheck).optional().describe('Namespaces of the caller (from its identity).'),
    notNamespaces: patternList('namespace', namespaceCheck).optional().describe('Namespaces that must not match.'),
    services: patternList('service', serviceCheck)
      .optional()
      .describe("Calling services, as `NAME` (in the policy's namespace) or `NAME.NAMESPACE`; read from the caller's identity and registration."),
    notServices: patternList('service', serviceCheck).optional().describe('Services that must not match.'),
  })
  .superRefine(notEmpty('source'))
  .describe('A caller description; all fields set must match.');
export type AuthorizationSource = z.infer<typeof AuthorizationSourceSchema>;

/** `to`: what is being called. Fields AND together; values within a field OR. */
export const AuthorizationOperationSchema = z
  .strictObject({
    methods: patternList('method', methodCheck).optional().describe('HTTP methods, upper case (gRPC calls are `POST`).'),
    notMethods: patternList('method', methodCheck).optional().describe('Methods that must not match.'),
    paths: patternList('path', pathCheck)
      .optional()
      .describe('Request paths (without query): exact `/health`, prefix `/api/*`, suffix `*.json`, or `*`. gRPC paths are `/package.Service/Method`.'),
    notPaths: patternList('path', pathCheck).optional().describe('Paths that must not match.'),
  })
  .superRefine(notEmpty('operation'))
  .describe('An operation description; all fields set must match.');
export type AuthorizationOperation = z.infer<typeof AuthorizationOperationSchema>;

/** `when`: a header condition. */
export const AuthorizationConditionSchema = z
  .strictObject({
    header: headerName().describe('Request header name (case-insensitive).'),
    values: patternList('value', anyValue).optional().describe('The header must be present with one of these values (wildcards allowed; `*`: present).'),
    notValues: patternList('value', anyValue).optional().describe('The header must not have any of these values (an absent header has none).'),
  })
  .refine((c) => c.values !== undefined || c.notValues !== undefined, { message: 'must set values or notValues', path: ['values'] })
  .describe('A header condition.');
export type AuthorizationCondition = z.infer<typeof AuthorizationConditionSchema>;

/** One rule: `from`, `to` and `when` must all hold; an empty rule matches every request. */
export const AuthorizationRuleSchema = z
  .strictObject({
    from: z.array(AuthorizationSourceSchema).min(1).max(64).optional().describe('Callers, any of which matches (OR); omitted: any caller.'),
    to: z.array(AuthorizationOperationSchema).min(1).max(64).optional().describe('Operations, any of which matches (OR); omitted: any operation.'),
    when: z.array(AuthorizationConditionSchema).min(1).max(64).optional().describe('Conditions, all of which must hold (AND); omitted: none.'),
  })
  .describe('A rule: matches when `from`, `to` and `when` all match. `{}` matches every request.');
export type AuthorizationRule = z.infer<typeof AuthorizationRuleSchema>;

/** `AuthorizationPolicy.spec`. */
export const AuthorizationPolicySpecSchema = z
  .strictObject({
    targetRef: ServiceTargetRefSchema.optional().describe(
      "The Service this policy protects (in the policy's namespace); omitted: every Service of the namespace.",
    ),
    action: z.enum(['ALLOW', 'DENY']).default('ALLOW').describe('What a matching rule does: `ALLOW` (default) or `DENY`. Deny wins over allow.'),
    rules: z
      .array(AuthorizationRuleSchema)
      .max(128)
      .default([])
      .describe('Rules, any of which matches (OR). No rules: the policy matches nothing (an ALLOW policy without rules therefore denies everything it applies to).'),
  })
  .describe('Access rules for the target Service.');
export type AuthorizationPolicySpec = z.infer<typeof AuthorizationPolicySpecSchema>;

/** An `AuthorizationPolicy` resource. */
export const AuthorizationPolicySchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('AuthorizationPolicy'),
    metadata: ObjectMetaSchema,
    spec: AuthorizationPolicySpecSchema,
    status: ResourceStatusSchema.optional(),
  })
  .describe(
    'Who may call a Service and what, by source identity (SPIFFE principal), namespace or service, method, path and headers. Deny wins, then allow; a Service with any ALLOW policy denies what none allows; otherwise the Mesh default decides.',
  );
export type AuthorizationPolicy = z.infer<typeof AuthorizationPolicySchema>;
export type AuthorizationPolicyInput = z.input<typeof AuthorizationPolicySchema>;
