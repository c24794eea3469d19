import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';
import { ObjectMetaSchema, ResourceStatusSchema } from './meta.js';
import { RESOURCE_KIND_LIST, type ResourceKind } from './registry.js';

/**
 * Generates the files derived from the resource schemas: one JSON Schema per kind under
 * `schemas/` (for editors validating YAML, e.g. with the YAML language server), one that
 * accepts any kind, and the reference `docs/reference/resources.md`. Everything a user reads
 * about a field comes from its schema's description, so the two cannot drift apart;
 * `scripts/gen-reference.mjs` writes the files, and a unit test fails when the committed
 * ones are stale.
 */

/** A generated file: a path relative to the repository root, and its whole content. */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
}

type JsonSchema = { readonly [key: string]: unknown };

const isSchema = (v: unknown): v is JsonSchema => v !== null && typeof v === 'object' && !Array.isArray(v);
const schemasOf = (v: unknown): JsonSchema[] => (Array.isArray(v) ? v.filter(isSchema) : []);

/** The JSON Schema of a zod schema as a user writes it (input: defaults make fields optional). */
export const toJsonSchema = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;

/** `schemas/<file>` of a kind: its lowercase name, e.g. `httproute.schema.json`. */
export const schemaFileName = (kind: ResourceKind): string => `${kind.kind.toLowerCase()}.schema.json`;

const kindSchemaFile = (kind: ResourceKind): GeneratedFile => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: kind.kind,
    ...toJsonSchema(kind.schema),
  };
  return { path: `schemas/${schemaFileName(kind)}`, content: `${JSON.stringify(schema, null, 2)}\n` };
};

/** One schema for a file of mixed kinds: dispatches on `kind` to the per-kind files. */
const anyKindSchemaFile = (): GeneratedFile => {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Any Weft resource',
    description: 'A Weft configuration resource of any kind; validated against the schema of its kind.',
    type: 'object',
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { enum: [...new Set(RESOURCE_KIND_LIST.map((k) => k.apiVersion))] },
      kind: { enum: RESOURCE_KIND_LIST.map((k) => k.kind) },
    },
    allOf: RESOURCE_KIND_LIST.map((k) => ({
      if: { properties: { kind: { const: k.kind } }, required: ['kind'] },
      then: { $ref: `./${schemaFileName(k)}` },
    })),
  };
  return { path: 'schemas/resources.schema.json', content: `${JSON.stringify(schema, null, 2)}\n` };
};

// ---- Markdown ---------------------------------------------------------------------------

const SAFE_INT = 9_007_199_254_740_991;

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');
const code = (v: unknown): string => `\`${typeof v === 'string' && v !== '' ? v : JSON.stringify(v)}\``;

const range = (min: unknown, max: unknown): string => {
  const lo = typeof min === 'number' && min > -SAFE_INT ? min : undefined;
  const hi = typeof max === 'number' && max < SAFE_INT ? max : undefined;
  if (lo !== undefined && hi !== undefined) return ` ${lo}–${hi}`;
  if (lo !== undefined) return ` ≥ ${lo}`;
  if (hi !== undefined) return ` ≤ ${hi}`;
  return '';
};

/** A short human name of a JSON Schema's type, e.g. `integer 1–65535`, `list of object (max 16)`. */
const typeName = (s: JsonSchema): string => {
  if (Array.isArray(s.enum)) return s.enum.map(code).join(' | ');
  if (s.const !== undefined) return code(s.const);
  const variants = schemasOf(s.oneOf ?? s.anyOf);
  if (variants.length > 0) {
    const names = [...new Set(variants.map(typeName))];
    return names.length === 1 ? (names[0] ?? '') : names.join(' or ');
  }
  switch (s.type) {
    case 'string':
      if (s.pattern === DURATION_PATTERN.source) return 'duration';
      if (s.format === 'date-time') return 'timestamp';
      return 'string';
    case 'integer':
    case 'number':
      return `${s.type}${range(s.minimum, s.maximum)}`;
    case 'boolean':
      return 'boolean';
    case 'array': {
      const items = isSchema(s.items) ? typeName(s.items) : 'any';
      const bounds = [typeof s.minItems === 'number' && s.minItems > 0 ? `min ${s.minItems}` : '', typeof s.maxItems === 'number' ? `max ${s.maxItems}` : '']
        .filter(Boolean)
        .join(', ');
      return `list of ${items}${bounds === '' ? '' : ` (${bounds})`}`;
    }
    case 'object':
      if (isSchema(s.additionalProperties)) return `map of string to ${typeName(s.additionalProperties)}`;
      return 'object';
    default:
      return 'any';
  }
};

const defaultText = (s: JsonSchema, required: boolean): string => {
  if (s.default === undefined) return required ? '**required**' : '';
  if (isSchema(s.default) && Object.keys(s.default).length === 0 && s.type === 'object' && !isSchema(s.additionalProperties)) return 'see fields';
  return code(s.default);
};

interface Row {
  readonly field: string;
  readonly type: string;
  readonly def: string;
  readonly description: string;
}

/**
 * The object variants of a discriminated union, with the discriminator's name and each
 * variant's value, or undefined when `variants` is not one.
 */
const discriminated = (variants: readonly JsonSchema[]): { key: string; values: string[] } | undefined => {
  if (variants.length < 2 || !variants.every((v) => v.type === 'object' && isSchema(v.properties))) return undefined;
  const first = variants[0]?.properties;
  if (!isSchema(first)) return undefined;
  for (const key of Object.keys(first)) {
    const values = variants.map((v) => (v.properties as JsonSchema)[key]).map((p) => (isSchema(p) ? p.const : undefined));
    if (values.every((x) => typeof x === 'string')) return { key, values: values as string[] };
  }
  return undefined;
};

/** Object schemas already expanded in one table, by shape: a repeat refers to the first. */
type Expanded = Map<string, string>;

const shapeKey = (s: JsonSchema): string | undefined => {
  const target = s.type === 'array' && isSchema(s.items) ? s.items : s;
  if (target.type !== 'object' && target.oneOf === undefined && target.anyOf === undefined) return undefined;
  const { description: _d, default: _def, ...shape } = target;
  return JSON.stringify(shape);
};

/** Rows for the fields of `s` (an object, a union of objects, or a list of them) under `prefix`. */
const rowsOf = (s: JsonSchema, prefix: string, expanded: Expanded = new Map(), condition = ''): Row[] => {
  if (s.type === 'array' && isSchema(s.items)) return rowsOf(s.items, `${prefix}[]`, expanded, condition);
  const variants = schemasOf(s.oneOf ?? s.anyOf);
  const union = discriminated(variants);
  if (union !== undefined) {
    const rows: Row[] = [];
    // Fields shared by every variant with the same schema are listed once; the others say when they apply.
    const seen = new Map<string, { schema: JsonSchema; values: string[]; required: boolean }>();
    variants.forEach((v, i) => {
      const props = v.properties as JsonSchema;
      const required = new Set(Array.isArray(v.required) ? v.required : []);
      for (const [name, p] of Object.entries(props)) {
        if (!isSchema(p) || name === union.key) continue;
        const id = `${name}\u0000${JSON.stringify(p)}`;
        const entry = seen.get(id) ?? { schema: p, values: [], required: required.has(name) };
        entry.values.push(union.values[i] ?? '');
        seen.set(id, entry);
      }
    });
    rows.push({
      field: `${prefix}.${union.key}`,
      type: union.values.map(code).join(' | '),
      def: '**required**',
      description: 'Selects the variant; the fields below say for which values they apply.',
    });
    for (const [id, e] of seen) {
      const name = id.slice(0, id.indexOf('\u0000'));
      const when = e.values.length === variants.length ? condition : `With \`${union.key}: ${e.values.join('` or `')}\`. `;
      rows.push(...fieldRows(name, e.schema, e.required, prefix, expanded, when));
    }
    return rows;
  }
  if (s.type !== 'object' || !isSchema(s.properties)) return [];
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  return Object.entries(s.properties).flatMap(([name, p]) => (isSchema(p) ? fieldRows(name, p, required.has(name), prefix, expanded, condition) : []));
};

const fieldRows = (name: string, p: JsonSchema, required: boolean, prefix: string, expanded: Expanded, condition: string): Row[] => {
  const field = `${prefix}.${name}`;
  const description = typeof p.description === 'string' ? p.description : '';
  const row: Row = { field, type: typeName(p), def: defaultText(p, required), description: `${condition}${description}` };
  const key = shapeKey(p);
  const first = key === undefined ? undefined : expanded.get(key);
  if (first !== undefined) return [{ ...row, description: `${row.description}${row.description === '' ? '' : ' '}Same fields as \`${first}\`.` }];
  const children = rowsOf(p, field, expanded);
  if (key !== undefined && children.length > 0) expanded.set(key, field);
  return [row, ...children];
};

const table = (rows: readonly Row[]): string =>
  [
    '| field | type | default | description |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.field}\` | ${cell(r.type)} | ${cell(r.def)} | ${cell(r.description)} |`),
  ].join('\n');

const anchor = (kind: ResourceKind): string => kind.kind.toLowerCase();

const kindSection = (kind: ResourceKind): string => {
  const schema = toJsonSchema(kind.schema);
  const props = (schema.properties ?? {}) as JsonSchema;
  const spec = props.spec;
  const status = props.status;
  const names = [`plural \`${kind.plural}\``, kind.shortNames.length > 0 ? `short ${kind.shortNames.map((n) => `\`${n}\``).join(', ')}` : '', kind.namespaced ? 'namespaced' : 'cluster-scoped']
    .filter(Boolean)
    .join(' · ');
  const parts = [
    `## ${kind.kind}`,
    `\`apiVersion: ${kind.apiVersion}\` · \`kind: ${kind.kind}\` · ${names} · schema [\`schemas/${schemaFileName(kind)}\`](../../schemas/${schemaFileName(kind)})`,
    typeof schema.description === 'string' ? schema.description : '',
    '### Fields',
    isSchema(spec) ? table(rowsOf(spec, 'spec')) : '',
  ];
  // Status tables only for kinds whose status says more than the common conditions.
  const { $schema: _s, ...commonStatusSchema } = toJsonSchema(ResourceStatusSchema);
  const commonStatus = JSON.stringify(commonStatusSchema);
  if (isSchema(status) && JSON.stringify(status) !== commonStatus) {
    parts.push('### Status (written by the control plane)', table(rowsOf(status, 'status')));
  }
  parts.push('### Example', '```yaml\n' + kind.example.trimEnd() + '\n```');
  return parts.filter((p) => p !== '').join('\n\n');
};

const referenceMarkdown = (): string => `<!-- Generated by scripts/gen-reference.mjs from packages/api/src/resources; do not edit. -->

# Configuration resources

Weft is configured with Kubernetes-shaped documents: \`apiVersion\`, \`kind\`, \`metadata\`,
\`spec\`, and a \`status\` that the control plane writes. Routing uses the Kubernetes Gateway
API (\`HTTPRoute\`, \`GRPCRoute\`) attached to a Service, as the GAMMA mesh profile defines;
the other kinds are Weft's own, under \`weft.dev/v1alpha1\`. Apply them with
\`weft apply -f FILE|DIR|-\` (multi-document YAML; a file is applied all or nothing), check
them offline with \`weft validate -f ...\`, read them with \`weft get KIND [NAME]\`.

Editors can validate files against the JSON Schemas in [\`schemas/\`](../../schemas/): one
per kind, and [\`resources.schema.json\`](../../schemas/resources.schema.json) for files
that mix kinds. With the YAML language server, start a file with
\`# yaml-language-server: $schema=<path>/schemas/resources.schema.json\`.

| kind | apiVersion | \`weft get\` names | scope |
| --- | --- | --- | --- |
${RESOURCE_KIND_LIST.map((k) => `| [\`${k.kind}\`](#${anchor(k)}) | \`${k.apiVersion}\` | ${[k.plural, ...k.shortNames].map((n) => `\`${n}\``).join(', ')} | ${k.namespaced ? 'namespaced' : 'cluster'} |`).join('\n')}

## Conventions

- **Unknown fields are rejected**, with the file, line and field: a typo never silently
  does nothing. Defaults are applied when a document is read, and shown by \`weft get -o yaml\`.
- **Durations** use the Gateway API format everywhere (GEP-2257): one to four groups of a
  number (at most 5 digits) and a unit \`h\`, \`m\`, \`s\` or \`ms\`: \`500ms\`, \`10s\`,
  \`1h30m\`, \`0s\`. No fractions (\`1.5s\` is \`1500ms\`) and no spaces.
- **Enumerations** of Weft's kinds are upper case (\`STRICT\`, \`ROUND_ROBIN\`, \`ALLOW\`);
  the Gateway API kinds keep the Gateway API's spelling (\`PathPrefix\`, \`RequestMirror\`).
- **Percentages** (\`percentage\`, \`samplingPercentage\`) are numbers from 0 to 100 and may
  have fractions (\`0.1\`).
- **Names** (\`metadata.name\`, \`metadata.namespace\`) are RFC 1123 labels: lowercase
  letters, digits and \`-\`, at most 63, so that \`<name>.<namespace>\` is a DNS name.
- **Policies** name what they apply to with \`targetRef\` (Gateway API policy attachment):
  \`kind\` and \`name\` in the policy's namespace, \`group\` implied by the kind, and
  \`sectionName\` for one port of a Service or one rule (by \`name\`) of a route.

## Metadata and status

Every kind has the same \`metadata\`. Cluster-scoped kinds (\`Mesh\`) have no \`namespace\`.

${table(rowsOf(toJsonSchema(ObjectMetaSchema), 'metadata'))}

The server-written fields (\`uid\`, \`generation\`, \`creationTimestamp\`) are accepted on
input and replaced. \`resourceVersion\` on input is a precondition: an update that carries
one that is no longer current is refused with 409, so two people editing the same resource
cannot overwrite each other unknowingly.

**\`status\` is written by the control plane only.** On input it is optional; when present
it must be well-formed, and it is then discarded and replaced. Accepting it (rather than
refusing it) means the output of \`weft get -o yaml\` can be edited and applied again as is,
as with \`kubectl\`. Every kind's status holds \`conditions\`; \`Accepted\` says whether the
resource is in effect and, when False, why (\`reason\` and \`message\`). A resource that is
valid but refers to something missing (a route to an unknown Service) is stored and
reported with \`ResolvedRefs\` False, rather than refused, so that resources can be applied
in any order.

${table(rowsOf(toJsonSchema(ResourceStatusSchema), 'status'))}

## Design notes

**Subsets by label: subset Services.** The Gateway API has no way to send traffic to the
instances of a Service that carry a label (Istio's DestinationRule subsets). Weft adds it
without changing HTTPRoute or GRPCRoute: a \`Service\` may be declared as
\`subsetOf: {service: reviews, labels: {version: v2}}\`, and routes name it as an ordinary
backend (\`kind: Service, name: reviews-v2\`). Extra fields in \`backendRefs\` were the
alternative; they would make Weft's routes invalid for every other Gateway API tool and
for the upstream CRDs once these kinds become CRDs, while a Service per version is exactly
what GAMMA users write in Kubernetes, so the same routes work unchanged there. A subset
Service is also a first-class destination: policies can target it and metrics name it.

**Authorization values** use Istio's syntax rather than match objects, because it is
compact and familiar: a value is exact, \`*\` (any), \`prefix*\` or \`*suffix\`; paths must
start with \`/\` unless they are suffixes. A \`*\` in the middle is refused.

**What the Gateway API allows that Weft refuses**: parents and backends other than
Services (there are no Gateways in a mesh), the \`CORS\`, \`ExternalAuth\` and
\`ExtensionRef\` filters and \`sessionPersistence\` (not implemented: refused rather than
ignored), and a route without \`parentRefs\`. Regular expressions (path, header, query and
gRPC method matches) are RE2 syntax and must match the whole value; proxies run the subset
on which RE2 and JavaScript agree, and a rule with an expression outside it (backreferences,
lookaround, inline flags, nested repetition) is left out, its route's status saying why.

${RESOURCE_KIND_LIST.map(kindSection).join('\n\n')}
`;

const referenceFile = (): GeneratedFile => ({ path: 'docs/reference/resources.md', content: referenceMarkdown() });

/** Every generated file, in a stable order. */
export const generateReferenceFiles = (): GeneratedFile[] => [
  ...RESOURCE_KIND_LIST.map(kindSchemaFile),
  anyKindSchemaFile(),
  referenceFile(),
];
