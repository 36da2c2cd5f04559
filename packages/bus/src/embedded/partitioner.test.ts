import { describe, expect, it } from 'vitest';
import { createPartitioner, murmur2, partitionForKey } from './partitioner.js';

describe('partitioner', () => {
  // The vectors of Kafka's own UtilsTest.testMurmur2: same hash, same partition as Kafka.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) is %i, as in Kafka', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('sends a key to the same partition every time, from any partitioner instance', () => {
    const a = createPartitioner(4);
    const b = createPartitioner(4);
    for (let i = 0; i < 200; i++) {
      const key = `user-${i}`;
      expect(a.partition(key)).toBe(b.partition(key));
      expect(a.partition(key)).toBe(partitionForKey(key, 4));
    }
  });

  it('spreads keys over every partition', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[partitionForKey(`anon-${i}`, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('spreads null keys round-robin', () => {
    const p = createPartitioner(3);
    expect(Array.from({ length: 7 }, () => p.partition(null))).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });
});
