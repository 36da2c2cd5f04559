import { createLogger } from '@cdp/core';
import { openWarehouse } from '@cdp/warehouse';
import { firstStartBanner } from './banner.js';
import { loadRunnerConfig, startPlatform } from './platform.js';

/**
 * Below this many libuv threads, long warehouse statements (the API's, the
 * loader's, the tag engine's, ad-hoc SQL) can take every thread and stall
 * file I/O, the embedded bus journal included.
 */
const MIN_THREADPOOL_EMBEDDED = 8;

/**
 * `cdp start` / `npm start`: starts every service in one process, prints the
 * first-start banner, and stops in reverse order on SIGINT or SIGTERM.
 */
export async function runStart(env: Record<string, string | undefined>): Promise<void> {
  const config = loadRunnerConfig(env);
  const logger = createLogger({ service: 'cdp', level: config.LOG_LEVEL });
  // Embedded chDB runs each statement on a libuv worker thread, as file I/O
  // does; Node reads the pool size once, before any code here runs, so only
  // the launcher can set it (`npm start` and the image do).
  const pool = Number(env['UV_THREADPOOL_SIZE'] ?? 4);
  if (config.CLICKHOUSE_URL === '' && pool < MIN_THREADPOOL_EMBEDDED) {
    logger.warn(
      { UV_THREADPOOL_SIZE: pool, recommended: 16 },
      'threadpool_small_for_embedded_warehouse',
    );
  }
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
