export * from './store/index.js';
export * from './compile/index.js';
