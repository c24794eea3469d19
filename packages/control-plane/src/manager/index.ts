// The resource manager: validation, defaults, server fields, references and concurrency above the store.
export { ResourceManager, type ApplyOptions, type ApplyOutcome, type DeleteOptions, type ListOutcome, type ManagerLogger, type ResourceManagerOptions } from './resource-manager.js';
export type { ApplyResult } from './admission.js';
export type { ConditionInput, ParentRefInput, ParentStatusInput } from './conditions.js';
export type { StatusUpdate } from './status-update.js';
export { DEFAULT_MANAGER_LIMITS, type ManagerLimits } from './limits.js';
export { invalidResources, ManagerError, resourceNotFoundFor, type DocumentIssue, type ErrorDetails } from './errors.js';
export { describeKey, keyOf } from './keys.js';
export { referencesOf, type Reference, type ReferenceRole } from './references.js';
