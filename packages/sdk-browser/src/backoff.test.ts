import { describe, expect, it } from 'vitest';
import { backoffMs, MAX_RETRY_AFTER_MS, parseRetryAfter } from './backoff.js';

describe('backoffMs', () => {
  it.each([
    { attempt: 1, low: 250, high: 500 },
    { attempt: 2, low: 500, high: 1000 },
    { attempt: 3, low: 1000, high: 2000 },
    { attempt: 8, low: 30_000, high: 60_000 },
    { attempt: 30, low: 30_000, high: 60_000 },
  ])('attempt $attempt lies in [$low, $high]', ({ attempt, low, high }) => {
    expect(backoffMs(attempt, 500, 60_000, () => 0)).toBe(low);
    expect(backoffMs(attempt, 500, 60_000, () => 0.999999)).toBe(high);
    const mid = backoffMs(attempt, 500, 60_000, () => 0.5);
    expect(mid).toBeGreaterThan(low);
    expect(mid).toBeLessThan(high);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  it.each([
    [null, undefined],
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-5', undefined],
    ['0', 0],
    ['1', 1000],
    [' 120 ', 120_000],
    ['1.5', 1500],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 30_000],
    ['Sat, 01 Mar 2025 11:00:00 GMT', 0],
    ['999999', MAX_RETRY_AFTER_MS],
  ])('%j -> %j ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});
