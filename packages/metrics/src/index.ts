export * from './types.js';
export {
  BUILTIN_METRICS,
  BUILTIN_BY_NAME,
  RESERVED_NAMES,
  type BuiltinMetric,
  type MetricContext,
} from './builtins.js';
export {
  minuteCellsSql,
  eventCellsSql,
  deadLetterSql,
  type Buckets,
  type CellsQuery,
  type Sql,
} from './sql.js';
export {
  validateMetricDefinition,
  validateAlertRule,
  parseSeriesQuery,
  MAX_BUCKETS,
} from './validate.js';
export {
  alertWindows,
  compareWindows,
  nextState,
  valueOf,
  INITIAL_STATE,
  MINUTE_MS,
  RESOLVE_AFTER,
  type AlertResult,
  type AlertState,
  type AlertWindows,
  type WindowValue,
} from './alerts.js';
