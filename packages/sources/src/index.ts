export * from './source.js';
export { createSourceRegistry, type SourceRegistry, type SourcePatch } from './source-registry.js';
export { bootstrapCredentials, type BootstrapResult, type Credentials } from './bootstrap.js';
export { sourcesConfigSchema, type SourcesConfig } from './config.js';
export { startSources, type StartedSources } from './start.js';
