import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** A pino logger with the service name bound; `level` defaults to `info` (`silent` in tests). */
export function createLogger(opts: {
  service: string;
  level?: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    base: { service: opts.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'writeKey', 'adminToken'],
      censor: '[redacted]',
    },
  };
  return opts.destination
    ? pino(options, opts.destination as pino.DestinationStream)
    : pino(options);
}
