export {
  createIdentityService,
  identityGroups,
  type IdentityService,
  type IdentityServiceOptions,
} from './service.js';
export { createResolver, type Resolver, type ResolverOptions } from './resolver.js';
export { createStamper, type Stamper, type StamperOptions } from './stamper.js';
export { graphCache, warehouseCache, type StamperCache } from './cache.js';
export { createIdentityMetrics, type IdentityMetrics } from './metrics.js';
export {
  identityConfigSchema,
  identityRulesFrom,
  loadIdentityConfig,
  type IdentityConfig,
  type IdentityOwnConfig,
} from './config.js';
export { loadSnapshot, collapseOverrides } from './store.js';
