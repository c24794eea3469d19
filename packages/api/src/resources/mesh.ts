import { z } from 'zod';
import { durationSchema } from './duration.js';
import { percentage } from './fields.js';
import { ConnectionPoolSchema, LoadBalancerSchema, LocalitySchema, HealthCheckSchema, OutlierDetectionSchema, RetryBudgetSchema } from './destination-policy.js';
import { HTTPRouteRetrySchema, HTTPRouteTimeoutsSchema } from './http-route.js';
import { ClusterObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';

/**
 * `Mesh`: settings for the whole mesh: identity, mTLS, telemetry, and the defaults that
 * apply where no policy says otherwise. Cluster-scoped, and there is one: named `default`.
 * Applying no Mesh at all is the same as applying one with an empty spec.
 */

/** The one Mesh's name. */
export const MESH_NAME = 'default';

/** mTLS between proxies. */
export const MeshMTLSSchema = z
  .strictObject({
    mode: z
      .enum(['STRICT', 'PERMISSIVE'])
      .default('STRICT')
      .describe('`STRICT` (default): inbound mesh ports accept only mTLS. `PERMISSIVE`: they accept plaintext too (for migration); metrics say which each connection was.'),
    certificateLifetime: durationSchema({ min: '10m', max: '2160h' })
      .default('24h')
      .describe('Lifetime of workload certificates, from 10m to 2160h (90 days); proxies renew at half of it.'),
  })
  .describe('Mutual TLS between proxies.');
export type MeshMTLS = z.infer<typeof MeshMTLSSchema>;

/** Distributed tracing. */
export const MeshTracingSchema = z
  .strictObject({
    samplingPercentage: percentage()
      .default(1)
      .describe('Share of new traces sampled, 0 to 100 (fractions allowed). Requests that arrive with a sampling decision keep it.'),
  })
  .describe('Tracing (W3C trace context and B3 propagated on every hop).');

/** Access logs. */
export const MeshAccessLogSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('One JSON line per request on each proxy (with Envoy response flags).'),
  })
  .describe('Access logging.');

/** What authorization does where no policy decides. */
export const MeshAuthorizationSchema = z
  .strictObject({
    defaultAction: z
      .enum(['ALLOW', 'DENY'])
      .default('ALLOW')
      .describe(
        'For a request to a Service that no AuthorizationPolicy decides: `ALLOW` (default) or `DENY` (default-deny: every call must be allowed by a policy). A Service with an ALLOW policy denies what no policy allows, whatever this says.',
      ),
  })
  .describe('Authorization defaults.');

/**
 * Mesh-wide DestinationPolicy defaults. A section set here applies to every Service whose
 * DestinationPolicy leaves it out; the sections that have a default below are always on.
 */
export const MeshDestinationDefaultsSchema = z
  .strictObject({
    loadBalancer: LoadBalancerSchema.default(() => ({ type: 'LEAST_REQUEST' as const, choiceCount: 2 })).describe(
      'Default load balancer: `LEAST_REQUEST` with two choices.',
    ),
    connectionPool: ConnectionPoolSchema.prefault({}).describe('Default limits: 1024 connections, pending and in-flight requests; 3 concurrent retries.'),
    outlierDetection: OutlierDetectionSchema.optional().describe('Default outlier detection; off unless set.'),
    healthCheck: HealthCheckSchema.optional().describe('Default active health checks; off unless set.'),
    retryBudget: RetryBudgetSchema.prefault({}).describe('Default retry budget: 20% of requests plus 10 retries per second.'),
    locality: LocalitySchema.optional().describe('Default locality-aware routing; off unless set.'),
  })
  .describe('Defaults for every DestinationPolicy section.');
export type MeshDestinationDefaults = z.infer<typeof MeshDestinationDefaultsSchema>;

/** Defaults for route rules (and for calls to a Service that has no route). */
export const MeshRouteDefaultsSchema = z
  .strictObject({
    timeouts: HTTPRouteTimeoutsSchema.optional().describe('Timeouts for rules that set none; unset: no timeout.'),
    retry: HTTPRouteRetrySchema.optional().describe('Retries for rules that set none; unset: no retries.'),
  })
  .describe('Defaults for HTTP route rules, and for calls to Services without routes.');

/** `Mesh.spec`. */
export const MeshSpecSchema = z
  .strictObject({
    trustDomain: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[a-z0-9._-]+$/, 'must be a SPIFFE trust domain: lowercase letters, digits, ".", "-" and "_"')
      .default('cluster.local')
      .describe('SPIFFE trust domain of workload identities `spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>`.'),
    mtls: MeshMTLSSchema.prefault({}),
    tracing: MeshTracingSchema.prefault({}),
    accessLog: MeshAccessLogSchema.prefault({}),
    authorization: MeshAuthorizationSchema.prefault({}),
    defaults: z
      .strictObject({
        destinationPolicy: MeshDestinationDefaultsSchema.prefault({}),
        route: MeshRouteDefaultsSchema.prefault({}),
      })
      .prefault({})
      .describe('Defaults for policies, used where no policy sets a section.'),
  })
  .describe('Mesh-wide settings.');
export type MeshSpec = z.infer<typeof MeshSpecSchema>;

/** A `Mesh` resource. */
export const MeshSchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('Mesh'),
    metadata: ClusterObjectMetaSchema,
    spec: MeshSpecSchema.prefault({}),
    status: ResourceStatusSchema.optional(),
  })
  .superRefine((mesh, ctx) => {
    if (mesh.metadata.name !== MESH_NAME) {
      ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: `must be "${MESH_NAME}": a control plane runs one mesh` });
    }
  })
  .describe(
    'Mesh-wide settings: trust domain, mTLS mode, certificate lifetime, tracing sampling, access logs, the authorization default, and defaults for policies. Cluster-scoped; one, named `default`.',
  );
export type Mesh = z.infer<typeof MeshSchema>;
export type MeshInput = z.input<typeof MeshSchema>;
