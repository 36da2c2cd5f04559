import { Partitioners, type Message, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { stablePartitioner } from './partitioner.js';

function partitions(n: number): PartitionMetadata[] {
  return Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
}

describe('stablePartitioner', () => {
  it('gives a keyless message the same partition on every retry, and spreads keyless messages', () => {
    const p = stablePartitioner();
    const meta = partitions(4);
    const messages: Message[] = Array.from({ length: 8 }, (_, i) => ({
      key: null,
      value: `m${i}`,
    }));
    const first = messages.map((message) => p({ topic: 't', partitionMetadata: meta, message }));
    // A retry asks again for the same message objects; unrelated messages in between move the counter.
    for (let retry = 0; retry < 3; retry++) {
      p({ topic: 't', partitionMetadata: meta, message: { key: null, value: 'other' } });
      expect(
        messages.map((message) => p({ topic: 't', partitionMetadata: meta, message })),
      ).toEqual(first);
    }
    expect(new Set(first).size).toBe(4);
  });

  it('picks again when the remembered partition no longer exists', () => {
    const p = stablePartitioner();
    const eight = partitions(8);
    // Round-robin: among eight keyless messages one lands above partition 0.
    const messages: Message[] = Array.from({ length: 8 }, (_, i) => ({
      key: null,
      value: `m${i}`,
    }));
    const high = messages.find(
      (message) => p({ topic: 't', partitionMetadata: eight, message }) > 0,
    )!;
    expect(p({ topic: 't', partitionMetadata: eight, message: high })).toBeGreaterThan(0);
    expect(p({ topic: 't', partitionMetadata: partitions(1), message: high })).toBe(0);
  });

  it('places keyed messages exactly as kafkajs (and the Java client) do', () => {
    const ours = stablePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const meta = partitions(12);
    for (let i = 0; i < 500; i++) {
      const message: Message = { key: `user-${i}`, value: 'v' };
      expect(ours({ topic: 't', partitionMetadata: meta, message })).toBe(
        theirs({ topic: 't', partitionMetadata: meta, message }),
      );
    }
  });
});
