export { buildApp, ingestServerOptions, registerIngest, type IngestHandle } from './app.js';
export { DERIVED_SOURCE, createDerivedEventSink, type DerivedEventSink } from './derived-events.js';
export { DEFAULT_LIMITS, type IngestDeps, type IngestLimits } from './context.js';
export {
  loadIngestConfig,
  ingestConfigSchema,
  type IngestConfig,
  type IngestOwnConfig,
} from './config.js';
export { createIngestMetrics, type IngestMetrics } from './metrics.js';
export { PIXEL_GIF } from './routes/pixel.js';
export { loadSdkScript, sdkScriptFrom, type SdkScript } from './sdk-script.js';
export type { IngestStamper } from './collector.js';
