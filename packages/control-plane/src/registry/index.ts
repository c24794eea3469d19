// The registry: workloads of connected proxies, their health and config sync, persisted as Workloads.
export { Registry, type RegisterResult, type RegistryConnection, type RegistryEntryView, type RegistryOptions, type RegistryState } from './registry.js';
export { ManagerWorkloadWriter, type RegistryManager, type WorkloadWriter } from './workload-writer.js';
export { APP_PROTOCOL_ANNOTATION, IMPLIED_BY_ANNOTATION, type DesiredWorkload } from './workload-document.js';
