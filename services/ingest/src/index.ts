export { buildApp, DEFAULT_LIMITS, type IngestDeps, type IngestLimits } from './app.js';
export {
  loadIngestConfig,
  ingestConfigSchema,
  type IngestConfig,
  type IngestOwnConfig,
} from './config.js';
export {
  createSourceRegistry,
  type SourceRegistry,
  type SourcePatch,
} from './sources/source-registry.js';
export * from './sources/source.js';
export { bootstrapCredentials, type BootstrapResult, type Credentials } from './bootstrap.js';
export { createIngestMetrics, type IngestMetrics } from './metrics.js';
export { PIXEL_GIF } from './routes/pixel.js';
export { loadSdkScript, sdkScriptFrom, type SdkScript } from './sdk-script.js';
export type { IngestStamper } from './collector.js';
