import { z } from 'zod';
import { InboundRateLimitsSchema } from './snapshot-inbound-policies.js';

/**
 * The inbound policies of a proxy snapshot: what the proxy enforces on requests that arrive
 * at its own Service: authorization, then rate limits (`rateLimits`, see
 * snapshot-inbound-policies.ts).
 *
 * `authorization` is the AuthorizationPolicies that apply to the Service (those that target
 * it and those of its whole namespace) plus the Mesh default, in a form made for evaluation:
 * every wildcard value is split into its kind (`exact`, `prefix`, `suffix`, `any`) once, by
 * the compiler, and `services` are resolved against the policy's namespace into a name and
 * a namespace pattern. DENY policies come first, then ALLOW, each in name order, so the
 * policy that decides a request is the same wherever it is evaluated (proxy, `weft authz
 * check`). The default (no policies, `ALLOW`) allows every request.
 */

/** A value pattern, pre-split: exact, prefix (`/api/*`), suffix (`*.json`), or any value (`*`). */
export const StringMatchSchema = z.union([
  z.strictObject({ exact: z.string().max(1024) }),
  z.strictObject({ prefix: z.string().max(1024) }),
  z.strictObject({ suffix: z.string().max(1024) }),
  z.strictObject({ any: z.literal(true) }),
]);
export type StringMatch = z.infer<typeof StringMatchSchema>;

const matches = z.array(StringMatchSchema).min(1).max(64);

/**
 * A calling service as the caller's identity names it: its service account (`name`) and
 * namespace. The compiler resolves `reviews` to `{name: {exact: reviews}, namespace:
 * {exact: <policy namespace>}}`, `reviews.other` to namespace `other`, and `*` to any
 * authenticated caller.
 */
export const ServiceMatchSchema = z.strictObject({
  name: StringMatchSchema,
  namespace: StringMatchSchema,
});
export type ServiceMatch = z.infer<typeof ServiceMatchSchema>;

/** `from`: every field set must hold; a caller without identity matches no positive field. */
export const AuthzSourceSchema = z.strictObject({
  principals: matches.optional(),
  notPrincipals: matches.optional(),
  namespaces: matches.optional(),
  notNamespaces: matches.optional(),
  services: z.array(ServiceMatchSchema).min(1).max(64).optional(),
  notServices: z.array(ServiceMatchSchema).min(1).max(64).optional(),
});
export type AuthzSource = z.infer<typeof AuthzSourceSchema>;

/** `to`: every field set must hold. Paths are matched without the query. */
export const AuthzOperationSchema = z.strictObject({
  methods: matches.optional(),
  notMethods: matches.optional(),
  paths: matches.optional(),
  notPaths: matches.optional(),
});
export type AuthzOperation = z.infer<typeof AuthzOperationSchema>;

/** `when`: a header condition; `header` is lower case. */
export const AuthzConditionSchema = z.strictObject({
  header: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, 'must be a header name in lower case'),
  values: matches.optional(),
  notValues: matches.optional(),
});
export type AuthzCondition = z.infer<typeof AuthzConditionSchema>;

/** A rule: `from`, `to` and `when` must all hold; an absent part holds for every request. */
export const AuthzRuleSchema = z.strictObject({
  from: z.array(AuthzSourceSchema).min(1).max(64).optional(),
  to: z.array(AuthzOperationSchema).min(1).max(64).optional(),
  when: z.array(AuthzConditionSchema).min(1).max(64).optional(),
});
export type AuthzRule = z.infer<typeof AuthzRuleSchema>;

/** One AuthorizationPolicy, named `<namespace>/<name>`; a policy without rules matches nothing. */
export const AuthzPolicySchema = z.strictObject({
  name: z.string().min(1).max(63 + 1 + 253),
  action: z.enum(['ALLOW', 'DENY']),
  rules: z.array(AuthzRuleSchema).max(128),
});
export type AuthzPolicy = z.infer<typeof AuthzPolicySchema>;

/** The authorization of the proxy's own Service; the default allows everything. */
export const InboundAuthorizationSchema = z.strictObject({
  /** What decides when no policy does, and no ALLOW policy applies (the Mesh's `authorization.defaultAction`). */
  defaultAction: z.enum(['ALLOW', 'DENY']).default('ALLOW'),
  /** DENY policies, then ALLOW policies, each in name order. */
  policies: z.array(AuthzPolicySchema).max(1024).default([]),
});
export type InboundAuthorization = z.infer<typeof InboundAuthorizationSchema>;

/** Policies the proxy applies to requests for its own Service. */
export const InboundPolicySchema = z.strictObject({
  authorization: InboundAuthorizationSchema.prefault({}),
  /** RateLimitPolicies of the Service, checked after authorization; absent or empty: no limits. */
  rateLimits: InboundRateLimitsSchema.optional(),
});
export type InboundPolicy = z.infer<typeof InboundPolicySchema>;
