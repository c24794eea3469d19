export * from './snapshot.js';
export * from './bootstrap.js';
export * from './error-codes.js';
export * from './identity.js';
export * from './resources/index.js';
export * from './stream.js';
export * from './join-token.js';
