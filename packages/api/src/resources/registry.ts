import { z } from 'zod';
import { AuthorizationPolicySchema, type AuthorizationPolicy } from './authorization-policy.js';
import { DestinationPolicySchema, type DestinationPolicy } from './destination-policy.js';
import * as examples from './examples.js';
import { FaultPolicySchema, type FaultPolicy } from './fault-policy.js';
import { GRPCRouteSchema, type GRPCRoute } from './grpc-route.js';
import { HTTPRouteSchema, type HTTPRoute } from './http-route.js';
import { MeshSchema, type Mesh } from './mesh.js';
import { GATEWAY_API_VERSION, WEFT_API_VERSION } from './meta.js';
import { RateLimitPolicySchema, type RateLimitPolicy } from './rate-limit-policy.js';
import { ServiceSchema, type Service } from './service.js';
import { WorkloadSchema, type Workload } from './workload.js';

/**
 * The kinds registry: every resource kind Weft serves, by `apiVersion/kind`, with the
 * names the CLI accepts (`weft get httproutes`, `weft get hr`), whether it is namespaced,
 * its schema and an example. `parseResource` dispatches a document to its kind's schema.
 */

/** What Weft knows about one kind. */
export interface ResourceKind<S extends z.ZodType = z.ZodType> {
  /** `group/version`, e.g. `weft.dev/v1alpha1`. */
  readonly apiVersion: string;
  /** CamelCase kind, e.g. `HTTPRoute`. */
  readonly kind: string;
  /** Lowercase plural, as in `weft get httproutes` and REST paths. */
  readonly plural: string;
  /** Lowercase singular, as in `weft get httproute NAME`. */
  readonly singular: string;
  /** Abbreviations the CLI also accepts. */
  readonly shortNames: readonly string[];
  /** False for cluster-scoped kinds (no `metadata.namespace`). */
  readonly namespaced: boolean;
  /** The schema that validates a document of this kind and applies its defaults. */
  readonly schema: S;
  /** An example document (YAML), valid against `schema`; shown in the reference. */
  readonly example: string;
}

const defineKind = <S extends z.ZodType>(kind: ResourceKind<S>): ResourceKind<S> => kind;

/** Every kind, keyed by `apiVersion/kind` (e.g. `gateway.networking.k8s.io/v1/HTTPRoute`). */
export const RESOURCE_KINDS = {
  [`${WEFT_API_VERSION}/Mesh`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'Mesh',
    plural: 'meshes',
    singular: 'mesh',
    shortNames: [],
    namespaced: false,
    schema: MeshSchema,
    example: examples.MESH_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/Service`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    shortNames: ['svc'],
    namespaced: true,
    schema: ServiceSchema,
    example: examples.SERVICE_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/Workload`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'Workload',
    plural: 'workloads',
    singular: 'workload',
    shortNames: ['wl'],
    namespaced: true,
    schema: WorkloadSchema,
    example: examples.WORKLOAD_EXAMPLE,
  }),
  [`${GATEWAY_API_VERSION}/HTTPRoute`]: defineKind({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    plural: 'httproutes',
    singular: 'httproute',
    shortNames: ['hr'],
    namespaced: true,
    schema: HTTPRouteSchema,
    example: examples.HTTP_ROUTE_EXAMPLE,
  }),
  [`${GATEWAY_API_VERSION}/GRPCRoute`]: defineKind({
    apiVersion: GATEWAY_API_VERSION,
    kind: 'GRPCRoute',
    plural: 'grpcroutes',
    singular: 'grpcroute',
    shortNames: ['gr'],
    namespaced: true,
    schema: GRPCRouteSchema,
    example: examples.GRPC_ROUTE_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/DestinationPolicy`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'DestinationPolicy',
    plural: 'destinationpolicies',
    singular: 'destinationpolicy',
    shortNames: ['dp'],
    namespaced: true,
    schema: DestinationPolicySchema,
    example: examples.DESTINATION_POLICY_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/AuthorizationPolicy`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    singular: 'authorizationpolicy',
    shortNames: ['authz'],
    namespaced: true,
    schema: AuthorizationPolicySchema,
    example: examples.AUTHORIZATION_POLICY_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/RateLimitPolicy`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'RateLimitPolicy',
    plural: 'ratelimitpolicies',
    singular: 'ratelimitpolicy',
    shortNames: ['rlp'],
    namespaced: true,
    schema: RateLimitPolicySchema,
    example: examples.RATE_LIMIT_POLICY_EXAMPLE,
  }),
  [`${WEFT_API_VERSION}/FaultPolicy`]: defineKind({
    apiVersion: WEFT_API_VERSION,
    kind: 'FaultPolicy',
    plural: 'faultpolicies',
    singular: 'faultpolicy',
    shortNames: ['fp'],
    namespaced: true,
    schema: FaultPolicySchema,
    example: examples.FAULT_POLICY_EXAMPLE,
  }),
} as const;

/** A key of {@link RESOURCE_KINDS}: `apiVersion/kind`. */
export type ResourceKindKey = keyof typeof RESOURCE_KINDS;

/** Any valid resource, defaults applied; narrow it by `kind`. */
export type AnyResource = Mesh | Service | Workload | HTTPRoute | GRPCRoute | DestinationPolicy | AuthorizationPolicy | RateLimitPolicy | FaultPolicy;

/** The kind names, e.g. `'HTTPRoute'`. */
export type ResourceKindName = AnyResource['kind'];

/** Every kind, in the order of {@link RESOURCE_KINDS} (the order of the reference). */
export const RESOURCE_KIND_LIST: readonly ResourceKind[] = Object.values(RESOURCE_KINDS);

/** The kind served at `apiVersion` with name `kind`, or undefined. */
export const resourceKindOf = (apiVersion: string, kind: string): ResourceKind | undefined =>
  RESOURCE_KIND_LIST.find((k) => k.apiVersion === apiVersion && k.kind === kind);

/**
 * The kind a user means by `name` on the command line: its kind, plural, singular or
 * short name, case-insensitively (`HTTPRoute`, `httproutes`, `hr`), or undefined.
 */
export const findResourceKind = (name: string): ResourceKind | undefined => {
  const n = name.toLowerCase();
  return RESOURCE_KIND_LIST.find((k) => k.kind.toLowerCase() === n || k.plural === n || k.singular === n || k.shortNames.includes(n));
};

/** `Mesh, Service, ... (weft.dev/v1alpha1); HTTPRoute, GRPCRoute (gateway.networking.k8s.io/v1)`. */
export const describeKnownKinds = (): string => {
  const byVersion = new Map<string, string[]>();
  for (const k of RESOURCE_KIND_LIST) byVersion.set(k.apiVersion, [...(byVersion.get(k.apiVersion) ?? []), k.kind]);
  return [...byVersion].map(([v, kinds]) => `${kinds.join(', ')} (${v})`).join('; ');
};

const HeadSchema = z.looseObject({
  apiVersion: z.string({ error: (i) => (i.input === undefined ? 'is required, e.g. "weft.dev/v1alpha1"' : 'must be a string') }),
  kind: z.string({ error: (i) => (i.input === undefined ? `is required: one of ${describeKnownKinds()}` : 'must be a string') }),
});

/** Finds the kind of a document's head, or adds an issue saying what exists. */
const dispatch = (head: { apiVersion: string; kind: string }, ctx: z.RefinementCtx<unknown>): ResourceKind | undefined => {
  const exact = resourceKindOf(head.apiVersion, head.kind);
  if (exact !== undefined) return exact;
  const sameKind = RESOURCE_KIND_LIST.find((k) => k.kind === head.kind);
  if (sameKind !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['apiVersion'],
      message: `kind ${sameKind.kind} is served as apiVersion ${JSON.stringify(sameKind.apiVersion)}, not ${JSON.stringify(head.apiVersion)}`,
    });
    return undefined;
  }
  const alias = findResourceKind(head.kind);
  const hint = alias === undefined ? '.' : `: did you mean ${JSON.stringify(alias.kind)}?`;
  ctx.addIssue({
    code: 'custom',
    path: ['kind'],
    message: `unknown kind ${JSON.stringify(head.kind)}${hint} Known kinds: ${describeKnownKinds()}`,
  });
  return undefined;
};

/**
 * Validates any resource document: reads `apiVersion` and `kind`, then validates the
 * document against that kind's schema (defaults applied). An unknown kind is one issue on
 * `kind` that lists the kinds that exist. Use it with `parseDocuments` from `@weft/core`
 * to read multi-document YAML with file:line:field messages.
 */
export const AnyResourceSchema: z.ZodType<AnyResource> = z.unknown().transform((doc, ctx): AnyResource => {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    ctx.addIssue({ code: 'custom', message: 'a resource must be a mapping with apiVersion, kind, metadata and spec' });
    return z.NEVER;
  }
  const head = HeadSchema.safeParse(doc);
  if (!head.success) {
    for (const issue of head.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  const kind = dispatch(head.data, ctx);
  if (kind === undefined) return z.NEVER;
  const result = kind.schema.safeParse(doc);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  }
  return result.data as AnyResource;
});

/** One problem found in a resource: where (the field path) and what rule failed. */
export interface ResourceIssue {
  readonly path: readonly (string | number)[];
  /** The dotted field, e.g. `spec.rules[0].backendRefs[1].weight`; empty at the root. */
  readonly field: string;
  readonly message: string;
}

const fieldOf = (path: readonly (string | number)[]): string =>
  path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : /^[A-Za-z_$][\w$]*$/.test(seg) ? (out === '' ? seg : `${out}.${seg}`) : `${out}[${JSON.stringify(seg)}]`), '');

/**
 * A resource that failed validation. `issues` lists every problem; `message` holds them
 * one per line as `field: rule`, prefixed by the resource's kind and name when known.
 */
export class ResourceValidationError extends Error {
  readonly issues: readonly ResourceIssue[];

  constructor(issues: readonly ResourceIssue[], subject?: string) {
    const lines = issues.map((i) => (i.field === '' ? i.message : `${i.field}: ${i.message}`));
    super(`${subject === undefined ? 'invalid resource' : `invalid ${subject}`}:\n  ${lines.join('\n  ')}`);
    this.name = 'ResourceValidationError';
    this.issues = issues;
  }
}

const subjectOf = (doc: unknown): string | undefined => {
  if (doc === null || typeof doc !== 'object') return undefined;
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (typeof d.kind !== 'string') return undefined;
  const name = typeof d.metadata?.name === 'string' ? d.metadata.name : undefined;
  const ns = typeof d.metadata?.namespace === 'string' ? `${d.metadata.namespace}/` : '';
  return name === undefined ? d.kind : `${d.kind} ${ns}${name}`;
};

/** Validates `doc` as any resource; the result says why not, without throwing. */
export const safeParseResource = (doc: unknown): { success: true; data: AnyResource } | { success: false; error: ResourceValidationError } => {
  const r = AnyResourceSchema.safeParse(doc);
  if (r.success) return { success: true, data: r.data };
  const issues = r.error.issues.flatMap((i): ResourceIssue[] => {
    const path = i.path.map((s) => (typeof s === 'symbol' ? String(s.description) : s));
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => ({ path: [...path, k], field: fieldOf([...path, k]), message: `Unrecognized key: ${JSON.stringify(k)}` }));
    return [{ path, field: fieldOf(path), message: i.message }];
  });
  return { success: false, error: new ResourceValidationError(issues, subjectOf(doc)) };
};

/**
 * Validates `doc` (parsed JSON or YAML) as a resource of whatever kind its `apiVersion` and
 * `kind` name, and returns it with defaults applied. Throws a
 * {@link ResourceValidationError} listing every problem, e.g. for an unknown kind the
 * kinds that exist.
 */
export const parseResource = (doc: unknown): AnyResource => {
  const r = safeParseResource(doc);
  if (!r.success) throw r.error;
  return r.data;
};
