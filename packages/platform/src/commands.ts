import { createLogger } from '@cdp/core';
import { openWarehouse } from '@cdp/warehouse';
import { firstStartBanner } from './banner.js';
import { loadRunnerConfig, startPlatform } from './platform.js';

/**
 * `cdp start` / `npm start`: starts every service in one process, prints the
 * first-start banner, and stops in reverse order on SIGINT or SIGTERM.
 */
export async function runStart(env: Record<string, string | undefined>): Promise<void> {
  const config = loadRunnerConfig(env);
  const logger = createLogger({ service: 'cdp', level: config.LOG_LEVEL });
  const platform = await startPlatform(config, logger);
  process.stdout.write(firstStartBanner(platform.url, platform.credentials));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'cdp_stopping');
    platform.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'cdp_stop_failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `cdp migrate`: applies the warehouse migrations and prints what it did. */
export async function runMigrate(env: Record<string, string | undefined>): Promise<void> {
  const config = loadRunnerConfig(env);
  const logger = createLogger({ service: 'cdp', level: config.LOG_LEVEL });
  const warehouse = await openWarehouse(config, logger);
  try {
    const r = await warehouse.migrate();
    process.stdout.write(
      `applied: ${r.applied.join(', ') || '(none)'}\nalready applied: ${r.alreadyApplied.length}\n`,
    );
  } finally {
    await warehouse.close();
  }
}
