import { join } from 'node:path';
import type { Logger, PlatformConfig } from '@cdp/core';
import type { Warehouse } from './warehouse.js';
import { createClickHouseWarehouse } from './clickhouse-warehouse.js';
import type { AdhocLaneOptions } from './lanes.js';

/** What {@link openWarehouse} takes beyond the platform settings. */
export interface OpenWarehouseOptions {
  /** The ad-hoc lane (`queryReadonly`) of this warehouse: the API's limits on `POST /v1/sql`. */
  readonly adhoc?: AdhocLaneOptions | undefined;
}

/**
 * Opens the warehouse from the platform settings: a ClickHouse server when
 * `CLICKHOUSE_URL` is set, else chDB in `$CDP_DATA_DIR/clickhouse`.
 */
export async function openWarehouse(
  config: Pick<
    PlatformConfig,
    | 'CLICKHOUSE_URL'
    | 'CLICKHOUSE_USER'
    | 'CLICKHOUSE_PASSWORD'
    | 'CLICKHOUSE_DATABASE'
    | 'CDP_DATA_DIR'
  >,
  logger: Logger,
  opts: OpenWarehouseOptions = {},
): Promise<Warehouse> {
  if (config.CLICKHOUSE_URL !== '') {
    return createClickHouseWarehouse({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      logger,
      adhoc: opts.adhoc,
    });
  }
  return createClickHouseWarehouse({
    dataDir: join(config.CDP_DATA_DIR, 'clickhouse'),
    database: config.CLICKHOUSE_DATABASE,
    logger,
    adhoc: opts.adhoc,
  });
}
