export { createTagEngine, definitionsHash, type TagEngine, type TagEngineDeps } from './engine.js';
export { createTagEngineRunner, type TagEngineRunner, type TagEngineRunnerDeps } from './runner.js';
export { type EventSink, type TrackCall, stableMessageId } from './tier-events.js';
export {
  loadTagEngineConfig,
  tagEngineConfigSchema,
  type TagEngineConfig,
  type TagEngineOwnConfig,
} from './config.js';
