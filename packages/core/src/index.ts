export * from './weft-error.js';
export * from './logger.js';
export * from './yaml-validate.js';
export * from './line-splitter.js';
export { parseSpiffeId, spiffeIdOf, type SpiffeId } from './spiffe-id.js';
export { cannotListen } from './listen-error.js';
