// The control plane, composed: store, manager, registry, compiler, config stream, REST API.
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { parseHostPort, type HostPort } from './address.js';
export { ResourceCache } from './resource-cache.js';
export { StatusSync, type StatusManager } from './status-sync.js';
export { Reconciler, type ReconcilerOptions } from './reconciler.js';
