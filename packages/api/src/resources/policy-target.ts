import { z } from 'zod';
import { dnsLabel, dnsSubdomain } from './fields.js';
import { GATEWAY_API_GROUP } from './meta.js';

/**
 * Which resource a Weft policy applies to, in the Gateway API's policy-attachment shape
 * (GEP-713 `LocalPolicyTargetReferenceWithSectionName`): a group, kind and name in the
 * policy's own namespace, and optionally a section of it: a port name of a Service, or a
 * rule name of a route. `group` may be omitted; it is implied by `kind`.
 */

const coreGroup = z.literal('', { error: 'kind Service is in the core group: set group: "" or omit it' }).default('');
const gatewayGroup = z
  .literal(GATEWAY_API_GROUP, { error: `route kinds are in the group ${GATEWAY_API_GROUP}: set it or omit group` })
  .default(GATEWAY_API_GROUP);

/** A Service in the policy's namespace, optionally one of its ports by name. */
export const ServiceTargetRefSchema = z
  .strictObject({
    group: coreGroup.describe('`""` (the core group); may be omitted.'),
    kind: z.literal('Service').describe('`Service`.'),
    name: dnsLabel().describe("Name of the Service, in the policy's namespace."),
    sectionName: dnsLabel().optional().describe('Name of one port of the Service; omitted, every port.'),
  })
  .describe('The Service this policy applies to (in the policy\'s namespace).');
export type ServiceTargetRef = z.infer<typeof ServiceTargetRefSchema>;

/** An HTTPRoute in the policy's namespace, optionally one of its rules by name. */
export const HTTPRouteTargetRefSchema = z.strictObject({
  group: gatewayGroup.describe(`\`${GATEWAY_API_GROUP}\`; may be omitted.`),
  kind: z.literal('HTTPRoute'),
  name: dnsLabel().describe("Name of the route, in the policy's namespace."),
  sectionName: dnsSubdomain().optional().describe('Name of one rule of the route (`rules[].name`); omitted, every rule.'),
});

/** A GRPCRoute in the policy's namespace, optionally one of its rules by name. */
export const GRPCRouteTargetRefSchema = z.strictObject({
  group: gatewayGroup.describe(`\`${GATEWAY_API_GROUP}\`; may be omitted.`),
  kind: z.literal('GRPCRoute'),
  name: dnsLabel().describe("Name of the route, in the policy's namespace."),
  sectionName: dnsSubdomain().optional().describe('Name of one rule of the route (`rules[].name`); omitted, every rule.'),
});

/** A Service, or an HTTPRoute or GRPCRoute (optionally one rule), in the policy's namespace. */
export const ServiceOrRouteTargetRefSchema = z
  .discriminatedUnion('kind', [ServiceTargetRefSchema, HTTPRouteTargetRefSchema, GRPCRouteTargetRefSchema])
  .describe(
    'What the policy applies to, in its namespace: `kind: Service` (optionally `sectionName`: a port name), or `kind: HTTPRoute` / `GRPCRoute` (optionally `sectionName`: a rule name).',
  );
export type ServiceOrRouteTargetRef = z.infer<typeof ServiceOrRouteTargetRefSchema>;
