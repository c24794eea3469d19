import { _default, array, literal, maxLength, minLength, optional, prefault, regex, strictObject, string, union, zenum, type Infer } from './zod-mini.js';
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
export const StringMatchSchema = union([
  strictObject({ exact: string().check(maxLength(1024)) }),
  strictObject({ prefix: string().check(maxLength(1024)) }),
  strictObject({ suffix: string().check(maxLength(1024)) }),
  strictObject({ any: literal(true) }),
]);
export type StringMatch = Infer<typeof StringMatchSchema>;

const matches = array(StringMatchSchema).check(minLength(1), maxLength(64));

/**
 * A calling service as the caller's identity names it: its service account (`name`) and
 * namespace. The compiler resolves `reviews` to `{name: {exact: reviews}, namespace:
 * {exact: <policy namespace>}}`, `reviews.other` to namespace `other`, and `*` to any
 * authenticated caller.
 */
export const ServiceMatchSchema = strictObject({
  name: StringMatchSchema,
  namespace: StringMatchSchema,
});
export type ServiceMatch = Infer<typeof ServiceMatchSchema>;

/** `from`: every field set must hold; a caller without identity matches no positive field. */
export const AuthzSourceSchema = strictObject({
  principals: optional(matches),
  notPrincipals: optional(matches),
  namespaces: optional(matches),
  notNamespaces: optional(matches),
  services: optional(array(ServiceMatchSchema).check(minLength(1), maxLength(64))),
  notServices: optional(array(ServiceMatchSchema).check(minLength(1), maxLength(64))),
});
export type AuthzSource = Infer<typeof AuthzSourceSchema>;

/** `to`: every field set must hold. Paths are matched without the query. */
export const AuthzOperationSchema = strictObject({
  methods: optional(matches),
  notMethods: optional(matches),
  paths: optional(matches),
  notPaths: optional(matches),
});
export type AuthzOperation = Infer<typeof AuthzOperationSchema>;

/** `when`: a header condition; `header` is lower case. */
export const AuthzConditionSchema = strictObject({
  header: string().check(minLength(1), maxLength(256), regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/, 'must be a header name in lower case')),
  values: optional(matches),
  notValues: optional(matches),
});
export type AuthzCondition = Infer<typeof AuthzConditionSchema>;

/** A rule: `from`, `to` and `when` must all hold; an absent part holds for every request. */
export const AuthzRuleSchema = strictObject({
  from: optional(array(AuthzSourceSchema).check(minLength(1), maxLength(64))),
  to: optional(array(AuthzOperationSchema).check(minLength(1), maxLength(64))),
  when: optional(array(AuthzConditionSchema).check(minLength(1), maxLength(64))),
});
export type AuthzRule = Infer<typeof AuthzRuleSchema>;

/** One AuthorizationPolicy, named `<namespace>/<name>`; a policy without rules matches nothing. */
export const AuthzPolicySchema = strictObject({
  name: string().check(minLength(1), maxLength(63 + 1 + 253)),
  action: zenum(['ALLOW', 'DENY']),
  rules: array(AuthzRuleSchema).check(maxLength(128)),
});
export type AuthzPolicy = Infer<typeof AuthzPolicySchema>;

/** The authorization of the proxy's own Service; the default allows everything. */
export const InboundAuthorizationSchema = strictObject({
  /** What decides when no policy does, and no ALLOW policy applies (the Mesh's `authorization.defaultAction`). */
  defaultAction: _default(zenum(['ALLOW', 'DENY']), 'ALLOW'),
  /** DENY policies, then ALLOW policies, each in name order. */
  policies: _default(array(AuthzPolicySchema).check(maxLength(1024)), []),
});
export type InboundAuthorization = Infer<typeof InboundAuthorizationSchema>;

/** Policies the proxy applies to requests for its own Service. */
export const InboundPolicySchema = strictObject({
  authorization: prefault(InboundAuthorizationSchema, {}),
  /** RateLimitPolicies of the Service, checked after authorization; absent or empty: no limits. */
  rateLimits: optional(InboundRateLimitsSchema),
});
export type InboundPolicy = Infer<typeof InboundPolicySchema>;
