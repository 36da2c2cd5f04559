import type { Logger } from '@cdp/core';
import type { Warehouse } from '@cdp/warehouse';
import { bootstrapCredentials, type BootstrapResult } from './bootstrap.js';
import type { SourcesConfig } from './config.js';
import { createSourceRegistry, type SourceRegistry } from './source-registry.js';

/** What {@link startSources} gives a service: the started registry and the credentials. */
export interface StartedSources {
  /** Loaded and refreshing; `stop()` it at shutdown. */
  readonly sources: SourceRegistry;
  readonly credentials: BootstrapResult;
}

/**
 * Loads the sources, keeps them refreshed every `CDP_SOURCES_REFRESH_MS`,
 * and makes sure the first-start credentials exist (see
 * {@link bootstrapCredentials}): what ingest, the API and the all-in-one
 * runner each do at start.
 */
export async function startSources(opts: {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly config: Readonly<SourcesConfig & { CDP_DATA_DIR: string }>;
}): Promise<StartedSources> {
  const { warehouse, logger, config } = opts;
  const sources = createSourceRegistry({
    warehouse,
    logger,
    refreshMs: config.CDP_SOURCES_REFRESH_MS,
  });
  await sources.start();
  try {
    const credentials = await bootstrapCredentials({
      dataDir: config.CDP_DATA_DIR,
      sources,
      adminToken: config.CDP_ADMIN_TOKEN,
      logger,
    });
    return { sources, credentials };
  } catch (err) {
    sources.stop();
    throw err;
  }
}
