import { z } from 'zod';
import { GRPC_STATUS_NAMES } from '../grpc-status.js';
import { durationSchema } from './duration.js';
import { percentage } from './fields.js';
import { HTTPRouteMatchSchema } from './http-route.js';
import { ObjectMetaSchema, ResourceStatusSchema, WEFT_API_VERSION } from './meta.js';
import { ServiceOrRouteTargetRefSchema } from './policy-target.js';

/**
 * `FaultPolicy`: injected delays and aborts for a share of requests, for resilience drills.
 * Delayed requests carry response flag `DI`, aborted ones flag `FI`, in access logs and
 * metrics, so that an injected failure is never mistaken for a real one.
 */

export { GRPC_STATUS_NAMES };
export const GRPCStatusNameSchema = z.enum(GRPC_STATUS_NAMES);
export type GRPCStatusName = z.infer<typeof GRPCStatusNameSchema>;

/** A fixed delay before forwarding. */
export const FaultDelaySchema = z
  .strictObject({
    fixedDelay: durationSchema({ min: '1ms', max: '1h' }).describe('How long to hold the request before forwarding it.'),
    percentage: percentage().default(100).describe('Share of matching requests delayed, 0 to 100 (fractions allowed). Default 100.'),
  })
  .describe('Delays a share of requests (flag `DI`).');
export type FaultDelay = z.infer<typeof FaultDelaySchema>;

/** An immediate error answer instead of forwarding. */
export const FaultAbortSchema = z
  .strictObject({
    httpStatus: z.number().int('must be a whole number').min(200, 'must be an HTTP status from 200 to 599').max(599, 'must be an HTTP status from 200 to 599').optional().describe('HTTP status to answer with.'),
    grpcStatus: GRPCStatusNameSchema.optional().describe('gRPC status to answer with (by name, e.g. `UNAVAILABLE`), for gRPC calls.'),
    percentage: percentage().default(100).describe('Share of matching requests aborted, 0 to 100 (fractions allowed). Default 100.'),
  })
  .superRefine((a, ctx) => {
    if ((a.httpStatus === undefined) === (a.grpcStatus === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['httpStatus'], message: 'set exactly one of httpStatus or grpcStatus' });
    }
  })
  .describe('Answers a share of requests with an error instead of forwarding them (flag `FI`): `httpStatus` or `grpcStatus`.');
export type FaultAbort = z.infer<typeof FaultAbortSchema>;

/** `FaultPolicy.spec`. */
export const FaultPolicySpecSchema = z
  .strictObject({
    targetRef: ServiceOrRouteTargetRefSchema,
    matches: z
      .array(HTTPRouteMatchSchema)
      .min(1)
      .max(16)
      .optional()
      .describe('Only requests meeting any of these (HTTPRoute match syntax) get faults; omitted: every request to the target.'),
    delay: FaultDelaySchema.optional(),
    abort: FaultAbortSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.delay === undefined && s.abort === undefined) ctx.addIssue({ code: 'custom', path: ['delay'], message: 'set delay, abort or both: a fault policy without either does nothing' });
  })
  .describe('Faults to inject for the target. When both are set, a request may be delayed and then aborted.');
export type FaultPolicySpec = z.infer<typeof FaultPolicySpecSchema>;

/** A `FaultPolicy` resource. */
export const FaultPolicySchema = z
  .strictObject({
    apiVersion: z.literal(WEFT_API_VERSION),
    kind: z.literal('FaultPolicy'),
    metadata: ObjectMetaSchema,
    spec: FaultPolicySpecSchema,
    status: ResourceStatusSchema.optional(),
  })
  .describe('Injects fixed delays and aborts (HTTP or gRPC status) into a share of calls to a Service or route, for resilience drills.');
export type FaultPolicy = z.infer<typeof FaultPolicySchema>;
export type FaultPolicyInput = z.input<typeof FaultPolicySchema>;
