export { createDefinitionStore, type DefinitionStore } from './definition-store.js';
export {
  createTagService,
  tagView,
  type TagService,
  type TagView,
  type TagRunView,
} from './service.js';
export {
  distribution,
  personTags,
  typedValue,
  valueTypes,
  type Distribution,
} from './tag-queries.js';
export type { RunReport } from './run-report.js';
export { createRemoteRecompute } from './remote.js';
