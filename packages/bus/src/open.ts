import { join } from 'node:path';
import type { Logger, PlatformConfig } from '@cdp/core';
import type { Bus } from './bus.js';
import { createEmbeddedBus } from './embedded/index.js';
import { createKafkaBus } from './kafka/index.js';

/**
 * Picks the bus adapter from the platform settings: Kafka when
 * `KAFKA_BROKERS` is set, else the embedded journaled bus in
 * `$CDP_DATA_DIR/bus`. Nothing else in a service knows which it got.
 */
export async function openBus(
  config: Pick<
    PlatformConfig,
    'KAFKA_BROKERS' | 'KAFKA_CLIENT_ID' | 'CDP_DATA_DIR' | 'CDP_TOPIC_PARTITIONS'
  >,
  logger: Logger,
): Promise<Bus> {
  const brokers = config.KAFKA_BROKERS.split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '');
  if (brokers.length > 0) {
    return createKafkaBus({
      brokers,
      clientId: config.KAFKA_CLIENT_ID,
      logger,
      defaultPartitions: config.CDP_TOPIC_PARTITIONS,
    });
  }
  return createEmbeddedBus({
    dir: join(config.CDP_DATA_DIR, 'bus'),
    defaultPartitions: config.CDP_TOPIC_PARTITIONS,
    logger,
  });
}
