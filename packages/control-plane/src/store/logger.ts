import { createLogger, type Logger } from '@weft/core';

/** The part of a pino logger a store uses; tests pass a recording fake. */
export type StoreLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

let fallback: StoreLogger | undefined;

/** `logger`, or a process-wide `component: store` child of a default root logger, made on first use. */
export const storeLogger = (logger: StoreLogger | undefined): StoreLogger =>
  logger ?? (fallback ??= createLogger().child({ component: 'store' }));
