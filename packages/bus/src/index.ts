/** Public surface of `@cdp/bus`: the `Bus` port and its adapters. */
export type * from './bus.js';
export {
  createEmbeddedBus,
  partitionForKey,
  type EmbeddedBus,
  type EmbeddedBusOptions,
  type FsyncMode,
} from './embedded/index.js';
export {
  createKafkaBus,
  translateKafkaError,
  type KafkaBusOptions,
  type KafkaOperation,
} from './kafka/index.js';
export { openBus } from './open.js';
export {
  createConsumerHealth,
  describeStuck,
  guardConsumer,
  type ConsumerHealth,
  type ConsumerHealthOptions,
  type ConsumerTrack,
  type GuardOptions,
  type PoisonRecord,
  type StuckConsumer,
} from './guard.js';
