export { createHttpServer, registerByteBodies, type HttpServerOptions } from './server.js';
export { cdpErrorHandler, toCdpError, type BeforeErrorReply } from './errors.js';
export {
  registerHealthRoutes,
  type ConsumerReadiness,
  type HealthDeps,
  type ReadinessCheck,
} from './health.js';
export { jsonBody } from './json-body.js';
export { decodeBody, looksLikeJsonObject } from './decode-body.js';
export { DEFAULT_MAX_DEPTH, depthExceeds, parseJsonBody } from './parse-body.js';
export { requireAdmin } from './auth.js';
