export {
  API_AREAS,
  DEFAULT_API_BODY_BYTES,
  buildApiApp,
  registerApi,
  type ApiAppOptions,
} from './app.js';
export type { ApiArea, ApiContext, ApiDeps } from './context.js';
export { ANALYTICS_READ, authorizeApiRequest, requireAdmin, type ApiTokens } from './auth.js';
export {
  adhocLaneFrom,
  apiConfigSchema,
  loadApiConfig,
  sqlLimitsFrom,
  type ApiConfig,
  type ApiOwnConfig,
} from './config.js';
export {
  createAnalyticsService,
  type AnalyticsDeps,
  type AnalyticsService,
} from './analytics-service.js';
export { registerPersonRoutes, type PersonRoutesOptions } from './routes/persons.js';
export { sourceView } from './routes/sources.js';
