export {
  createAudienceStore,
  parseRefresh,
  DEFAULT_REFRESH_SECONDS,
  type AudienceStore,
  type StoredAudience,
} from './store.js';
export {
  runAudience,
  listRuns,
  lastDone,
  type AudienceRun,
  type AudienceChangeMessage,
  type RunStatus,
} from './runs.js';
export {
  createAudienceService,
  type AudienceService,
  type AudienceServiceDeps,
  type AudienceView,
  type MembersPage,
  type PreviewAnswer,
} from './service.js';
export { createAudienceScheduler, type AudienceScheduler } from './scheduler.js';
export { audiencesConfigSchema, type AudiencesConfig } from './config.js';
export { createRemoteRefresh } from './remote.js';
