import { describe, expect, it, vi } from 'vitest';

import { BoundedCache } from './bounded-cache.js';

describe('BoundedCache', () => {
  it('computes a key once and then remembers it', () => {
    const cache = new BoundedCache<number>(10, 100);
    const compute = vi.fn((key: string) => key.length);
    expect(cache.get('abc', compute)).toBe(3);
    expect(cache.get('abc', compute)).toBe(3);
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('remembers undefined results too', () => {
    const cache = new BoundedCache<string | undefined>(10, 100);
    const compute = vi.fn((): string | undefined => undefined);
    expect(cache.get('x', compute)).toBeUndefined();
    expect(cache.get('x', compute)).toBeUndefined();
    expect(compute).toHaveBeenCalledTimes(1);
  });

  it('never holds more than maxEntries, starting afresh when full', () => {
    const cache = new BoundedCache<string>(3, 100);
    for (let i = 0; i < 10; i += 1) {
      cache.get(`k${i}`, (key) => key.toUpperCase());
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect(cache.get('k9', () => 'recomputed')).toBe('K9');
  });

  it('does not remember keys longer than maxKeyLength', () => {
    const cache = new BoundedCache<number>(10, 4);
    const compute = vi.fn((key: string) => key.length);
    expect(cache.get('toolong', compute)).toBe(7);
    expect(cache.get('toolong', compute)).toBe(7);
    expect(compute).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(0);
  });

  it('computes from a key equal to the one asked for', () => {
    const cache = new BoundedCache<string>(10, 100);
    const padded = '   https://example.com/   ';
    const key = padded.trim();
    expect(cache.get(key, (k) => k)).toBe(key);
    expect(cache.get(key.slice(0), () => 'other')).toBe(key);
  });
});
