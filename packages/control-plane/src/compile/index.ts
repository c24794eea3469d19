export * from './compiler.js';
export * from './mesh-context.js';
export * from './proxy-snapshot.js';
export * from './workload-record.js';
export { CONTROLLER_NAME, REASONS, type CompiledCondition, type ParentRefReport, type ResourceStatusReport, type RouteParentStatusReport } from './status.js';
export { policyTargetKey, type PolicyResource, type PolicyTargetKind } from './policy-index.js';
export type { MeshService, SnapshotPort, SubsetSelector } from './service-index.js';
export type { ServiceView } from './route-view.js';
export type { ServiceRouting } from './service-routing.js';
