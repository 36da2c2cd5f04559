/** Shards: 64 V8 Maps of at most 2^24 entries each. */
const SHARD_BITS = 6;

/**
 * A `Map<string, number>` split over 64 Maps. One V8 Map holds at most 2^24
 * (16.7 M) entries and throws past that; a resolver with tens of millions of
 * anonymous ids would hit it. Shards are picked by a hash of the last four
 * characters, which is cheap and spreads counters, UUIDs and hex digests.
 * Iteration (`entries`) is deterministic: shard by shard, each in insertion order.
 */
export class StringIndex {
  private readonly shards: Map<string, number>[] = Array.from(
    { length: 1 << SHARD_BITS },
    () => new Map<string, number>(),
  );
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): number | undefined {
    return this.shard(key).get(key);
  }

  has(key: string): boolean {
    return this.shard(key).has(key);
  }

  set(key: string, value: number): void {
    const shard = this.shard(key);
    const before = shard.size;
    shard.set(key, value);
    this.count += shard.size - before;
  }

  delete(key: string): boolean {
    const removed = this.shard(key).delete(key);
    if (removed) this.count--;
    return removed;
  }

  *entries(): IterableIterator<[string, number]> {
    for (const shard of this.shards) yield* shard.entries();
  }

  private shard(key: string): Map<string, number> {
    // FNV-1a over the last four characters (where ids differ most), top bits.
    const n = key.length;
    let h = 0x811c9dc5;
    for (let i = n - 1, stop = Math.max(0, n - 4); i >= stop; i--) {
      h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    }
    return this.shards[h >>> (32 - SHARD_BITS)]!;
  }
}
