/**
 * `@cdp/warehouse`: the `Warehouse` port, every table name, and the one
 * adapter (`@clickhouse/client` to a ClickHouse server, or to chDB in-process).
 * The adapter contract suite is `@cdp/warehouse/contract`.
 */
export type {
  InsertOptions,
  MigrationReport,
  QueryParams,
  ReadonlyQueryLimits,
  ReadonlyQueryResult,
  Warehouse,
} from './warehouse.js';
export {
  EVENTS_SCAN_SETTINGS_SQL,
  eventsByPersonSql,
  TABLES,
  type TableKey,
  type TableName,
} from './tables.js';
export { clickHouseTimeIso, clickHouseTimeMs } from './sql.js';
export {
  createClickHouseWarehouse,
  type ClickHouseWarehouseOptions,
} from './clickhouse-warehouse.js';
export type { AdhocLaneOptions } from './lanes.js';
export { DEFAULT_MIGRATIONS_DIR } from './migrations.js';
export { DEFAULT_READONLY_LIMITS } from './readonly-guard.js';
export { openWarehouse, type OpenWarehouseOptions } from './open.js';
