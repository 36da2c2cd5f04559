import { deadLetterMessage, type Logger, type Topics } from '@cdp/core';
import { guardConsumer, type Bus, type ConsumerHealth, type MessageBatch } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';

/**
 * An identity consumer's handler that never retries one bad record for
 * ever: a record it still refuses while the bus and the warehouse answer is
 * dead-lettered on `cdp.events.invalid` (code `CDP_ERR_IDENTITY_BAD_LINK`,
 * the reason and the raw message), and the rest goes on.
 */
export function guardIdentityConsumer(opts: {
  readonly name: string;
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly health?: ConsumerHealth | undefined;
  readonly handleBatch: (b: MessageBatch) => Promise<void>;
}): (b: MessageBatch) => Promise<void> {
  const { bus, topics, logger } = opts;
  return guardConsumer({
    name: opts.name,
    handleBatch: opts.handleBatch,
    probe: async () => {
      await Promise.all([bus.ping(), opts.warehouse.ping()]);
    },
    deadLetter: (records) =>
      bus.produce(
        topics.eventsInvalid,
        records.map((r) => ({
          key: null,
          value: deadLetterMessage({
            id: `${r.message.topic}:${r.message.partition}:${r.message.offset}`,
            receivedAt: r.message.timestamp,
            sourceId: '',
            code: 'CDP_ERR_IDENTITY_BAD_LINK',
            field: '',
            reason: `${opts.name}: ${r.message.topic} offset ${r.message.offset}: ${r.reason}`,
            payload: r.message.value.toString('utf8'),
            ip: '',
          }),
        })),
      ),
    onPoison: (records) =>
      logger.error(
        { consumer: opts.name, offsets: records.map((r) => r.message.offset) },
        'identity_records_dead_lettered',
      ),
    ...(opts.health ? { health: opts.health } : {}),
  });
}
