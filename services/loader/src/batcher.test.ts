import { describe, expect, it, vi } from 'vitest';
import { createBatcher } from './batcher.js';

describe('createBatcher', () => {
  it('writes once the row limit is reached, with every part, and resolves all adders', async () => {
    const writes: { rows: number[]; parts: string[] }[] = [];
    const b = createBatcher<number>({
      maxRows: 3,
      maxWaitMs: 60_000,
      write: async (rows, parts) => void writes.push({ rows, parts }),
    });
    await Promise.all([b.add([1, 2], 'a'), b.add([3], 'b')]);
    expect(writes).toEqual([{ rows: [1, 2, 3], parts: ['a', 'b'] }]);
  });

  it('writes after maxWaitMs when the limit is not reached', async () => {
    vi.useFakeTimers();
    try {
      const write = vi.fn(async () => {});
      const b = createBatcher<number>({ maxRows: 100, maxWaitMs: 1000, write });
      const p = b.add([1], 'a');
      await vi.advanceTimersByTimeAsync(999);
      expect(write).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await p;
      expect(write).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts the wait from when the oldest row entered the bus', async () => {
    vi.useFakeTimers();
    try {
      const write = vi.fn(async () => {});
      const b = createBatcher<number>({ maxRows: 100, maxWaitMs: 1000, write });
      // These rows waited 800 ms on the bus already: 200 ms more, not 1,000.
      const p = b.add([1], 'a', Date.now() - 800);
      await vi.advanceTimersByTimeAsync(199);
      expect(write).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      await p;
      expect(write).toHaveBeenCalledOnce();
      // Rows older than the interval go at once.
      const q = b.add([2], 'b', Date.now() - 5000);
      await vi.advanceTimersByTimeAsync(0);
      await q;
      expect(write).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects every adder of a failed write, so the bus redelivers their messages', async () => {
    const b = createBatcher<number>({
      maxRows: 2,
      maxWaitMs: 60_000,
      write: async () => {
        throw new Error('warehouse down');
      },
    });
    const results = await Promise.allSettled([b.add([1], 'a'), b.add([2], 'b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(b.pendingRows).toBe(0);
  });

  it('serialises writes', async () => {
    let inFlight = 0;
    let most = 0;
    const b = createBatcher<number>({
      maxRows: 1,
      maxWaitMs: 60_000,
      write: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
      },
    });
    await Promise.all([1, 2, 3, 4].map((n) => b.add([n], String(n))));
    expect(most).toBe(1);
  });
});
