import type { AnyResource, ResourceKind } from '@weft/api';
import type { ApiResource } from './api-client.js';
import { formatAge, renderTable } from './table.js';

/**
 * The columns `weft get` prints per kind: NAMESPACE (namespaced kinds), NAME, a few columns
 * that say what the resource does, ACCEPTED (its `Accepted` condition) and AGE; `-o wide`
 * adds RESOLVED (`ResolvedRefs`), REASON (of `Accepted`) and wider kind columns.
 */

interface Column {
  readonly header: string;
  readonly value: (r: AnyResource) => string;
  /** Only with `-o wide`. */
  readonly wide?: boolean;
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
}

const conditionOf = (r: AnyResource, type: string): Condition | undefined => {
  const list = (r.status as { conditions?: readonly Condition[] } | undefined)?.conditions;
  return Array.isArray(list) ? list.find((c) => c.type === type) : undefined;
};

const none = '<none>';
const joined = (items: readonly string[], max = 4): string =>
  items.length === 0 ? none : items.length <= max ? items.join(',') : `${items.slice(0, max).join(',')} + ${items.length - max} more...`;
const unique = (items: readonly string[]): string[] => [...new Set(items)];

const routeBackends = (r: AnyResource): string[] => {
  if (r.kind !== 'HTTPRoute' && r.kind !== 'GRPCRoute') return [];
  const rules: readonly { readonly backendRefs?: readonly { readonly name: string; readonly weight?: number }[] | undefined }[] = r.spec.rules ?? [];
  return unique(rules.flatMap((rule) => (rule.backendRefs ?? []).map((b) => (b.weight === undefined || rule.backendRefs?.length === 1 ? b.name : `${b.name}:${b.weight}`))));
};

const KIND_COLUMNS: Readonly<Record<AnyResource['kind'], readonly Column[]>> = {
  Mesh: [
    { header: 'TRUST-DOMAIN', value: (r) => (r.kind === 'Mesh' ? r.spec.trustDomain : '') },
    { header: 'MTLS', value: (r) => (r.kind === 'Mesh' ? r.spec.mtls.mode : '') },
  ],
  Service: [
    { header: 'PORTS', value: (r) => (r.kind === 'Service' ? joined((r.spec.ports ?? []).map((p) => `${p.port}/${p.appProtocol}`)) : '') },
    {
      header: 'SUBSET-OF',
      value: (r) =>
        r.kind === 'Service' && r.spec.subsetOf !== undefined
          ? `${r.spec.subsetOf.service}{${Object.entries(r.spec.subsetOf.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`
          : none,
    },
  ],
  Workload: [
    { header: 'SERVICE', value: (r) => (r.kind === 'Workload' ? r.spec.service : '') },
    { header: 'ADDRESS', value: (r) => (r.kind === 'Workload' ? `${r.spec.address.includes(':') ? `[${r.spec.address}]` : r.spec.address}:${r.spec.port}` : '') },
    { header: 'HEALTH', value: (r) => (r.kind === 'Workload' ? (r.status?.health ?? 'UNKNOWN') : '') },
    { header: 'VERSION', value: (r) => r.metadata.labels['version'] ?? none, wide: true },
    { header: 'ZONE', value: (r) => r.metadata.labels['zone'] ?? none, wide: true },
  ],
  HTTPRoute: routeColumns(),
  GRPCRoute: routeColumns(),
  DestinationPolicy: [targetColumn()],
  AuthorizationPolicy: [
    targetColumn(),
    { header: 'ACTION', value: (r) => (r.kind === 'AuthorizationPolicy' ? r.spec.action : '') },
    { header: 'RULES', value: (r) => (r.kind === 'AuthorizationPolicy' ? String(r.spec.rules.length) : '') },
  ],
  RateLimitPolicy: [targetColumn()],
  FaultPolicy: [targetColumn()],
};

function routeColumns(): Column[] {
  return [
    { header: 'PARENTS', value: (r) => (r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute' ? joined(unique(r.spec.parentRefs.map((p) => (p.namespace === undefined ? p.name : `${p.namespace}/${p.name}`)))) : '') },
    { header: 'RULES', value: (r) => (r.kind === 'HTTPRoute' || r.kind === 'GRPCRoute' ? String((r.spec.rules ?? []).length) : '') },
    { header: 'BACKENDS', value: (r) => joined(routeBackends(r)), wide: true },
  ];
}

function targetColumn(): Column {
  return {
    header: 'TARGET',
    value: (r) => {
      if (r.kind !== 'DestinationPolicy' && r.kind !== 'AuthorizationPolicy' && r.kind !== 'RateLimitPolicy' && r.kind !== 'FaultPolicy') return '';
      const t = r.spec.targetRef;
      return t === undefined ? '<namespace>' : `${t.kind}/${t.name}${t.sectionName === undefined ? '' : `#${t.sectionName}`}`;
    },
  };
}

/** A column's value; a resource of an unexpected shape (a newer server) prints `?` rather than failing the table. */
const cell = (c: Column, r: AnyResource): string => {
  try {
    return c.value(r);
  } catch {
    return '?';
  }
};

/** The table of `resources` of `kind`; `wide` adds the wide columns. */
export const resourceTable = (kind: ResourceKind, resources: readonly ApiResource[], wide: boolean, now: Date = new Date()): string => {
  const list = resources as unknown as readonly AnyResource[];
  const specific = (KIND_COLUMNS[kind.kind as AnyResource['kind']] ?? []).filter((c) => wide || c.wide !== true);
  const columns: Column[] = [
    ...(kind.namespaced ? [{ header: 'NAMESPACE', value: (r: AnyResource) => ('namespace' in r.metadata ? r.metadata.namespace : '') }] : []),
    { header: 'NAME', value: (r) => r.metadata.name },
    ...specific,
    { header: 'ACCEPTED', value: (r) => conditionOf(r, 'Accepted')?.status ?? 'Unknown' },
    ...(wide
      ? [
          { header: 'RESOLVED', value: (r: AnyResource) => conditionOf(r, 'ResolvedRefs')?.status ?? '-' },
          { header: 'REASON', value: (r: AnyResource) => conditionOf(r, 'Accepted')?.reason ?? '-' },
        ]
      : []),
    { header: 'AGE', value: (r) => formatAge(r.metadata.creationTimestamp, now) },
  ];
  return renderTable(
    columns.map((c) => c.header),
    list.map((r) => columns.map((c) => cell(c, r))),
  );
};
