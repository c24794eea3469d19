export * from './store/index.js';
export * from './compile/index.js';
export * from './stream/index.js';
export * from './registry/index.js';
export * from './runtime/index.js';
