import { describe, expect, it } from 'vitest';
import { StringIndex } from './string-index.js';

describe('StringIndex', () => {
  it('behaves like a Map<string, number>', () => {
    const index = new StringIndex();
    const keys = ['', 'a', 'user-1', 'user-2', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 'é'];
    keys.forEach((k, i) => index.set(k, i));
    index.set('a', 10);
    expect(index.size).toBe(keys.length);
    expect(index.get('a')).toBe(10);
    expect(index.get('user-2')).toBe(3);
    expect(index.has('nope')).toBe(false);
    expect(index.delete('user-1')).toBe(true);
    expect(index.delete('user-1')).toBe(false);
    expect(index.size).toBe(keys.length - 1);
    expect(new Map(index.entries())).toEqual(
      new Map([
        ['', 0],
        ['a', 10],
        ['user-2', 3],
        ['f47ac10b-58cc-4372-a567-0e02b2c3d479', 4],
        ['é', 5],
      ]),
    );
  });

  it('spreads typical ids over many shards, so 2^24 per Map is no limit', () => {
    const shardsOf = (keys: string[]): number => {
      const index = new StringIndex();
      keys.forEach((k, i) => index.set(k, i));
      const shards = (index as unknown as { shards: Map<string, number>[] }).shards;
      return shards.filter((s) => s.size > 0).length;
    };
    const n = 5000;
    expect(shardsOf(Array.from({ length: n }, (_, i) => `user-${i}`))).toBeGreaterThanOrEqual(32);
    expect(shardsOf(Array.from({ length: n }, () => crypto.randomUUID()))).toBeGreaterThanOrEqual(
      48,
    );
  });

  it('iterates in the same order for the same insertions', () => {
    const a = new StringIndex();
    const b = new StringIndex();
    for (let i = 0; i < 200; i++) {
      a.set(`k${i}`, i);
      b.set(`k${i}`, i);
    }
    expect([...b.entries()]).toEqual([...a.entries()]);
  });
});
