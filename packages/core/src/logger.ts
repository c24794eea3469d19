import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths redacted from every log line: tokens and keys never reach a log. */
const REDACT = ['token', '*.token', 'authorization', '*.authorization', 'key', '*.key', '*.privateKey'];

/**
 * The root logger of a Weft process: JSON lines on stderr, so that stdout stays free for a
 * command's own output. Components take child loggers (`logger.child({ component })`).
 */
export const createLogger = (options: { level?: string; name?: string } = {}): Logger => {
  const opts: LoggerOptions = {
    level: options.level ?? process.env['WEFT_LOG_LEVEL'] ?? 'info',
    base: { name: options.name ?? 'weft', pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(opts, pino.destination({ dest: 2, sync: false }));
};
