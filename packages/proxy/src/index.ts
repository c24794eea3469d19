export { Proxy, type ProxyHooks, type ProxyPorts } from './runtime/proxy.js';
export { ConfigState } from './runtime/config-state.js';
export { startSidecar, type Sidecar, type SidecarOptions } from './runtime/sidecar.js';
export { errorResponse, type ErrorResponse } from './errors/rescue.js';
export { ProxyError, type HopRef } from './errors/proxy-error.js';
export { FileSnapshotSource } from './config/file-snapshot-source.js';
export { startAdminServer, type AdminConfigView, type AdminState } from './admin/admin-server.js';
export { MetricsRegistry } from './telemetry/registry.js';
export { mergeExpositions } from './telemetry/merge-exposition.js';
export { SIDECAR_ENV, SIDECAR_NODE_FLAGS } from './runtime/node-flags.js';
export { settleHeap } from './runtime/settle-heap.js';
export {
  authzPath,
  compileAuthorizer,
  peerIdentityFromPrincipal,
  readRawHeader,
  type Authorizer,
  type AuthzBasis,
  type AuthzDecision,
  type HeaderReader,
  type PeerIdentity,
} from './authz/index.js';
