// The proxy's end of the config stream: client, snapshot cache, hello, backoff.
export { Backoff, type BackoffOptions } from './backoff.js';
export { ControlPlaneSource, type ControlPlaneSourceOptions, type ControlPlaneView, type StreamClientTuning } from './control-plane-source.js';
export { helloFromBootstrap, PROXY_VERSION, type HelloIdentity } from './hello.js';
export { SnapshotCache, type CacheRead, type CachedSnapshot } from './snapshot-cache.js';
export { ConfigStreamClient, type ApplyResult, type ConfigStreamClientOptions, type StreamClientStatus, type StreamErrorView } from './stream-client.js';
export { resolveInboundPort } from './inbound-port.js';
export { advertisedAddress, defaultWorkloadName } from './workload-name.js';
