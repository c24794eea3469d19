import type { ResourceKindName } from '@weft/api';

/**
 * The statuses the compiler computes for resources: Kubernetes-style conditions without
 * timestamps. The compiler is pure and has no clock, so `lastTransitionTime` is the
 * writer's job: it stamps a condition when its status, reason or message changed, and keeps
 * the stored time otherwise.
 */

/** `controllerName` of the route parent statuses Weft writes. */
export const CONTROLLER_NAME = 'weft.dev/control-plane';

/** Reasons the compiler writes, in one place so tests and docs name them alike. */
export const REASONS = {
  Accepted: 'Accepted',
  ResolvedRefs: 'ResolvedRefs',
  /** A route's parent Service does not exist, or has no port the route can apply to. */
  NoMatchingParent: 'NoMatchingParent',
  /** A backendRef names a Service that does not exist (or a subset whose parent does not). */
  BackendNotFound: 'BackendNotFound',
  /** Something valid that proxies cannot apply yet; the part that uses it is left out. */
  UnsupportedValue: 'UnsupportedValue',
  /** Every rule of a route lost to identical matches of routes with precedence. */
  Conflicted: 'Conflicted',
  /** A policy's targetRef names nothing that exists. */
  TargetNotFound: 'TargetNotFound',
  /** A subset Service's parent does not exist. */
  ParentNotFound: 'ParentNotFound',
  /** Valid alone, invalid in context (e.g. a subset of a subset). */
  Invalid: 'Invalid',
} as const;

/** One condition, as `metav1.Condition` without `lastTransitionTime`. */
export interface CompiledCondition {
  readonly type: 'Accepted' | 'ResolvedRefs' | 'PartiallyInvalid';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  /** The `metadata.generation` the condition was computed from, when the resource has one. */
  readonly observedGeneration?: number;
}

/** A route's `parentRef` as written (the key of a Gateway API `RouteParentStatus`). */
export interface ParentRefReport {
  readonly group: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** A route's conditions toward one of its parents (Gateway API `RouteParentStatus`). */
export interface RouteParentStatusReport {
  readonly parentRef: ParentRefReport;
  readonly controllerName: typeof CONTROLLER_NAME;
  readonly conditions: readonly CompiledCondition[];
}

/** The status of one resource as the compiler sees it; `parents` only for routes. */
export interface ResourceStatusReport {
  readonly kind: ResourceKindName;
  /** Absent for cluster-scoped kinds (Mesh). */
  readonly namespace?: string;
  readonly name: string;
  readonly conditions: readonly CompiledCondition[];
  readonly parents?: readonly RouteParentStatusReport[];
}

/** A condition with `observedGeneration` when `generation` is known. */
export const condition = (
  type: CompiledCondition['type'],
  ok: boolean,
  reason: string,
  message: string,
  generation?: number,
): CompiledCondition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
  ...(generation === undefined ? {} : { observedGeneration: generation }),
});

/** Orders reports by kind, namespace and name, so output is stable. */
export const compareReports = (a: ResourceStatusReport, b: ResourceStatusReport): number =>
  cmp(a.kind, b.kind) || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name);

/** Plain code-unit string order (locale-independent, so output does not depend on the host). */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
