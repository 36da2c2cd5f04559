import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';

/**
 * kafkajs's default partitioner (the Java client's murmur2 for keys), with
 * one change: a message without a key keeps the partition it was first given.
 *
 * kafkajs asks the partitioner again on every retry of a `sendBatch`, and
 * round-robins keyless messages, so a retry after a partial failure (one
 * partition answering "not the leader" just after a topic is created, while
 * the others already stored their records) sent a keyless message to a
 * second partition: a duplicate the idempotent producer cannot catch, since
 * its sequence numbers are per partition. Worse, kafkajs then rolled back
 * the first partition's sequence number, so the next batch there could be
 * taken by the broker for a retry of the stored one and dropped. Keeping the
 * first choice makes a retry an exact resend that the broker deduplicates.
 * The choice is kept per message object, which kafkajs reuses across the
 * retries of one `sendBatch`.
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const inner = Partitioners.DefaultPartitioner();
  const chosen = new WeakMap<object, number>();
  return (args: PartitionerArgs): number => {
    const { message, partitionMetadata } = args;
    if (message.key !== null && message.key !== undefined) return inner(args);
    const before = chosen.get(message);
    if (before !== undefined && before < partitionMetadata.length) return before;
    const partition = inner(args);
    chosen.set(message, partition);
    return partition;
  };
};
