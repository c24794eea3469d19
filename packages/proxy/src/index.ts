export { Proxy, type ProxyHooks, type ProxyPorts } from './runtime/proxy.js';
export { ConfigState } from './runtime/config-state.js';
export { startSidecar, type Sidecar, type SidecarOptions } from './runtime/sidecar.js';
export { errorResponse, type ErrorResponse } from './errors/rescue.js';
export { ProxyError, type HopRef } from './errors/proxy-error.js';
