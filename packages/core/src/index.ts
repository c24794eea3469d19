export * from './weft-error.js';
export * from './logger.js';
