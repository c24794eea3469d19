import { z } from 'zod';
import { dnsLabel, labelMap, qualifiedName } from './fields.js';

/**
 * What every resource shares: Kubernetes-shaped `metadata` and `status`, so that the kinds
 * can become CRDs later and feel familiar now.
 *
 * Status handling (a decision, see docs/reference/resources.md): `status` is written by the
 * control plane only. On input it is optional, validated for shape, and then discarded
 * (the control plane replaces it), so that the output of `weft get -o yaml` can be edited
 * and applied again without deleting anything, exactly as with `kubectl apply`. Likewise
 * the server-written metadata fields (`uid`, `generation`, `creationTimestamp`) are
 * accepted and overwritten; `resourceVersion` on input is a precondition for optimistic
 * concurrency (a stale one is refused with 409).
 */

/** The API version of Weft's own kinds. */
export const WEFT_API_VERSION = 'weft.dev/v1alpha1';
/** The API version of the Gateway API route kinds Weft implements. */
export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
/** The Gateway API's group, as `parentRefs` and `backendRefs` spell it. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const serverFields = {
  resourceVersion: z
    .string()
    .max(128)
    .optional()
    .describe(
      'Written by the control plane: the version of this resource in the store. On input it is a precondition: an update whose resourceVersion is not the stored one is refused with 409 (optimistic concurrency); omit it to overwrite.',
    ),
  generation: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Written by the control plane: incremented on every change of spec. Ignored on input.'),
  uid: z.string().max(128).optional().describe('Written by the control plane: unique for the lifetime of the resource. Ignored on input.'),
  creationTimestamp: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Written by the control plane: when the resource was first stored (RFC 3339). Ignored on input.'),
};

const labels = labelMap()
  .default({})
  .describe('Labels for selecting and grouping resources. For a Workload, `version` and `zone` are well known: subsets and locality-aware routing select on them.');

const annotations = z
  .record(qualifiedName(), z.string())
  .refine((m) => Object.entries(m).reduce((n, [k, v]) => n + k.length + v.length, 0) <= ANNOTATIONS_MAX_BYTES, 'must total at most 256 KiB')
  .default({})
  .describe('Free-form notes for tools and people; Weft itself ignores them. At most 256 KiB in total.');

/** `metadata` of a namespaced resource. */
export const ObjectMetaSchema = z
  .strictObject({
    name: dnsLabel().describe('Name, unique per kind within the namespace: an RFC 1123 label (lowercase letters, digits and "-", at most 63).'),
    namespace: dnsLabel().default('default').describe('Namespace: an RFC 1123 label.'),
    labels,
    annotations,
    ...serverFields,
  })
  .describe('Standard object metadata.');
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;

/** `metadata` of a cluster-scoped resource (no namespace). */
export const ClusterObjectMetaSchema = z
  .strictObject({
    name: dnsLabel().describe('Name, unique per kind: an RFC 1123 label.'),
    labels,
    annotations,
    ...serverFields,
  })
  .describe('Standard object metadata (cluster-scoped: no namespace).');
export type ClusterObjectMeta = z.infer<typeof ClusterObjectMetaSchema>;

/** The status values of a condition. */
export const ConditionStatusSchema = z.enum(['True', 'False', 'Unknown']);
export type ConditionStatus = z.infer<typeof ConditionStatusSchema>;

/**
 * One observation of the control plane about a resource, as Kubernetes' `metav1.Condition`:
 * `Accepted` True or False with a machine-readable reason and a message for people.
 */
export const ConditionSchema = z
  .strictObject({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/, 'must be a condition type in CamelCase, e.g. "Accepted"')
      .describe('Condition type in CamelCase, e.g. `Accepted`, `ResolvedRefs`, `Ready`.'),
    status: ConditionStatusSchema.describe('`True`, `False` or `Unknown`.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/, 'must be a CamelCase reason, e.g. "BackendNotFound"')
      .describe('Machine-readable reason in CamelCase, e.g. `Accepted`, `BackendNotFound`, `Invalid`.'),
    message: z.string().max(32768).default('').describe('Human-readable details.'),
    lastTransitionTime: z.iso.datetime({ offset: true }).describe('When `status` last changed (RFC 3339).'),
    observedGeneration: z.number().int().min(0).optional().describe('The `metadata.generation` this condition was computed from.'),
  })
  .describe('An observation of the control plane about this resource.');
export type Condition = z.infer<typeof ConditionSchema>;

/** Well-known condition types the control plane writes. */
export const CONDITION_TYPES = {
  /** The resource is valid and in effect (False: rejected, with the reason). */
  Accepted: 'Accepted',
  /** Every reference (target, backend, parent) names something that exists. */
  ResolvedRefs: 'ResolvedRefs',
  /** A workload: healthy and connected, receiving traffic. */
  Ready: 'Ready',
  /** A route with some valid and some invalid rules (Gateway API `PartiallyInvalid`). */
  PartiallyInvalid: 'PartiallyInvalid',
} as const;

/** A list of conditions, at most one per type. */
export const conditionList = (): z.ZodDefault<z.ZodArray<typeof ConditionSchema>> =>
  z
    .array(ConditionSchema)
    .max(32)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, i) => {
        if (seen.has(c.type)) ctx.addIssue({ code: 'custom', path: [i, 'type'], message: `duplicate condition type ${JSON.stringify(c.type)}` });
        seen.add(c.type);
      });
    })
    .default([]);

/** The status every Weft kind carries: conditions, written by the control plane. */
export const ResourceStatusSchema = z
  .strictObject({
    conditions: conditionList().describe('Conditions, at most one per type; `Accepted` says whether the resource is in effect and why not.'),
  })
  .describe('Written by the control plane. Optional on input, validated, then discarded and replaced.');
export type ResourceStatus = z.infer<typeof ResourceStatusSchema>;

/** The fields of a resource's metadata that only the control plane writes. */
export const SERVER_METADATA_FIELDS = ['resourceVersion', 'generation', 'uid', 'creationTimestamp'] as const;

/**
 * A copy of `resource` as a user would apply it: without `status` and without the
 * server-written metadata fields. The control plane stores what this returns (plus its own
 * fields); `weft get -o yaml --export`-style output can use it too.
 */
export const withoutServerFields = <R extends { metadata: object; status?: unknown }>(resource: R): Omit<R, 'status'> => {
  const { status: _status, ...rest } = resource;
  const metadata: Record<string, unknown> = { ...resource.metadata };
  for (const f of SERVER_METADATA_FIELDS) delete metadata[f];
  return { ...rest, metadata } as Omit<R, 'status'>;
};
