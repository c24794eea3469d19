/**
 * What the data plane needs of the API, without the resource kinds: the snapshot, the
 * bootstrap, the config stream messages and the error codes. The proxy imports this entry
 * point (`@weft/api/data-plane`) so that a sidecar never builds the schemas of every
 * resource kind: they cost several megabytes of memory in every proxy process.
 */
export * from './snapshot.js';
export * from './bootstrap.js';
export * from './stream.js';
export * from './error-codes.js';
export * from './join-token.js';
export * from './identity.js';
