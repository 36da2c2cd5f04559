import type { Logger } from '@cdp/core';
import { logLevel, type logCreator } from 'kafkajs';

/** kafkajs messages that our own settings cause on purpose; logged at debug. */
const EXPECTED = [/^Limiting retries for the idempotent producer/];
/** Fields kafkajs adds to every entry that pino has already, or that are too noisy. */
const DROPPED = new Set(['message', 'timestamp', 'logger', 'stack']);

/**
 * Routes kafkajs's logger into pino. kafkajs is set to warn, and its errors
 * come out as pino warnings too: kafkajs logs every failed attempt it is
 * about to retry as an error, while the adapter reports what finally failed
 * itself, with a stable message.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }) => {
      const message = entry.message;
      const ctx: Record<string, unknown> = { namespace };
      for (const [k, v] of Object.entries(entry)) if (!DROPPED.has(k)) ctx[k] = v;
      if (EXPECTED.some((re) => re.test(message))) {
        log.debug(ctx, message);
        return;
      }
      switch (level) {
        case logLevel.ERROR:
        case logLevel.WARN:
          log.warn(ctx, message);
          return;
        case logLevel.INFO:
          log.info(ctx, message);
          return;
        case logLevel.DEBUG:
        case logLevel.NOTHING:
          log.debug(ctx, message);
          return;
      }
    };
}
