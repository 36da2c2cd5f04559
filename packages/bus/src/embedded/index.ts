/** The embedded, journaled `Bus` adapter. */
export { createEmbeddedBus, type EmbeddedBus } from './embedded-bus.js';
export type { EmbeddedBusOptions } from './options.js';
export type { FsyncMode } from './partition-log.js';
export { partitionForKey } from './partitioner.js';
