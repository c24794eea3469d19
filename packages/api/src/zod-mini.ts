import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * The zod functions the data-plane schemas (snapshot, bootstrap, config stream, identity,
 * join token) are built with: `zod/mini`, by name, so that a bundler keeps only what they
 * use. The sidecar loads these schemas in every instance, and classic zod (the chained
 * `z.` API) cannot be tree-shaken: it costs megabytes of memory per process.
 *
 * Classic zod registers the English messages when it loads; zod/mini does not, so this
 * module does, once, before any schema parses. Every schema module imports from here, so
 * messages stay the same whichever of the two a process loads (they share one
 * configuration).
 *
 * Whole numbers are written `number().check(int(), ...)`, which is what classic's
 * `z.number().int()` does: `int('message')` as the schema itself would also give its
 * message to a value that is not a number at all.
 */
config(en());

export {
  _default,
  array,
  boolean,
  check,
  discriminatedUnion,
  extend,
  gte,
  int,
  ipv4,
  ipv6,
  iso,
  literal,
  lte,
  maxLength,
  minLength,
  number,
  optional,
  pipe,
  positive,
  prefault,
  record,
  refine,
  regex,
  startsWith,
  strictObject,
  string,
  superRefine,
  transform,
  union,
  enum as zenum,
} from 'zod/mini';
export type { infer as Infer, input as Input } from 'zod/mini';
export type { $RefinementCtx as RefinementCtx } from 'zod/v4/core';
