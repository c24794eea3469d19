// The control plane's end of the config stream.
export { StreamServer, type ProxyStreamInfo, type StreamBackend, type StreamServerOptions, type StreamServerRoute, type StreamServerStats, type StreamTlsOptions } from './stream-server.js';
export type { ProxySyncState } from './proxy-stream.js';
export { StreamError, type StreamErrorCode } from './stream-error.js';
export { parseProxyMessage } from './messages.js';
