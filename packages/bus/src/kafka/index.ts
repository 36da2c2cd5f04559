/** The Kafka `Bus` adapter. */
export { createKafkaBus } from './kafka-bus.js';
export type { KafkaBusOptions } from './options.js';
export { translateKafkaError, type KafkaOperation } from './errors.js';
