export {
  createMetricsService,
  DEFAULT_CONVERSION_EVENT,
  LIVE_METRICS,
  type CellMap,
  type LiveView,
  type MetricView,
  type MetricsService,
  type MetricsServiceDeps,
  type Series,
} from './service.js';
export {
  createAlertService,
  MAX_NOTIFY_ATTEMPTS,
  type AlertEventView,
  type AlertService,
  type AlertServiceDeps,
  type AlertView,
  type TickReport,
} from './alerts.js';
export { createAlertScheduler, type AlertScheduler } from './scheduler.js';
export { metricsConfigSchema, type MetricsConfig } from './config.js';
