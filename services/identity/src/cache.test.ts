/**
 * The stamper's warehouse cache against a change that arrives while it is
 * reading: a port whose answers the test releases by hand (the race cannot
 * be timed on a real engine; the cache over chDB is stamper-cache.int.test).
 */
import { describe, expect, it } from 'vitest';
import type { Warehouse } from '@cdp/warehouse';
import { warehouseCache } from './cache.js';

type Row = { id_type: string; id_value: string; one_id: string };

/** A warehouse whose identity reads wait for `answer`; other reads answer nothing. */
function heldWarehouse(): { wh: Warehouse; reads: number; answer: (rows: Row[]) => void } {
  const waiting: ((rows: Row[]) => void)[] = [];
  const state = {
    reads: 0,
    answer: (rows: Row[]) => waiting.shift()?.(rows),
    wh: {
      query: async (sql: string) => {
        if (!sql.includes('FROM identities')) return [];
        state.reads++;
        return new Promise<Row[]>((r) => waiting.push(r));
      },
    } as unknown as Warehouse,
  };
  return state;
}

const A2 = { type: 'anonymous_id', value: 'a2' } as const;

describe('warehouseCache', () => {
  it('reads again when the person it read was invalidated during the read', async () => {
    const h = heldWarehouse();
    const cache = warehouseCache(h.wh);
    const done = cache.prefetch([A2]);
    await new Promise((r) => setImmediate(r));
    // The split lands while the read is in flight: the answer is the old person.
    cache.invalidate?.(['old-person']);
    h.answer([{ id_type: 'anonymous_id', id_value: 'a2', one_id: 'old-person' }]);
    await new Promise((r) => setImmediate(r));
    expect(h.reads).toBe(2);
    h.answer([{ id_type: 'anonymous_id', id_value: 'a2', one_id: 'new-person' }]);
    await done;
    expect(cache.lookup(A2)).toBe('new-person');
  });

  it('keeps an answer no change touched', async () => {
    const h = heldWarehouse();
    const cache = warehouseCache(h.wh);
    const done = cache.prefetch([A2]);
    await new Promise((r) => setImmediate(r));
    cache.invalidate?.(['someone-else']);
    h.answer([{ id_type: 'anonymous_id', id_value: 'a2', one_id: 'p' }]);
    await done;
    expect(h.reads).toBe(1);
    expect(cache.lookup(A2)).toBe('p');
  });
});
