import { z } from 'zod';
import { labels } from './snapshot-fields.js';

/** The route rules of a service in a proxy snapshot: matches and weighted backends. */

/** A path match as the Gateway API defines it (this snapshot carries the two basic kinds). */
export const PathMatchSchema = z.strictObject({
  type: z.enum(['PathPrefix', 'Exact']).default('PathPrefix'),
  value: z.string().startsWith('/', 'must start with "/"').default('/'),
});

export const RouteMatchSchema = z.strictObject({
  path: PathMatchSchema.default({ type: 'PathPrefix', value: '/' }),
});

/** A weighted backend of a route: a service, or the subset of its endpoints with these labels. */
export const BackendRefSchema = z.strictObject({
  service: z.string().min(1),
  weight: z.number().int().min(0).max(1_000_000).default(1),
  subset: labels.optional(),
});
export type BackendRef = z.infer<typeof BackendRefSchema>;

export const RouteRuleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  matches: z.array(RouteMatchSchema).default([{ path: { type: 'PathPrefix', value: '/' } }]),
  backendRefs: z.array(BackendRefSchema).min(1),
});
export type RouteRule = z.infer<typeof RouteRuleSchema>;
