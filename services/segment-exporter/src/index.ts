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
export {
  buildLookalike,
  parseLookalikeRequest,
  MAX_LOOKALIKE_RATIO,
  type LookalikeReport,
  type LookalikeRequest,
} from './lookalike.js';
export { createAudienceScheduler, type AudienceScheduler } from './scheduler.js';
export { audiencesConfigSchema, type AudiencesConfig } from './config.js';
export { createRemoteRefresh } from './remote.js';
export {
  createDestinationService,
  type DestinationService,
  type ConnectionView,
} from './destinations/service.js';
export { loadSecretBox, mask, secretBox, type SecretBox } from './destinations/secrets.js';
export type { DestinationView } from './destinations/store.js';
export type { ExportRun } from './destinations/sync.js';
export { DESTINATION_TYPES, type DestinationType } from './destinations/types.js';
