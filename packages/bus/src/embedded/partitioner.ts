/**
 * Key to partition, the way Kafka's default partitioner does it:
 * `(murmur2(utf8(key)) & 0x7fffffff) % partitions`. Using Kafka's hash means
 * a key lands in the same partition number on the embedded bus and on Kafka
 * (with kafkajs' Java-compatible partitioner), which keeps runbooks and
 * tests portable. Records without a key are spread round-robin.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's 32-bit murmur2 (signed result, as in `org.apache.kafka.common.utils.Utils.murmur2`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24) | 0;
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition for a non-null key. Deterministic across processes and restarts. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}

/** Picks partitions for one topic: by key hash, or round-robin for null keys. */
export interface Partitioner {
  partition(key: string | null): number;
}

/** Creates the partitioner for a topic with `partitions` partitions. */
export function createPartitioner(partitions: number): Partitioner {
  let next = 0;
  return {
    partition(key) {
      if (key !== null) return partitionForKey(key, partitions);
      const p = next;
      next = (next + 1) % partitions;
      return p;
    },
  };
}
