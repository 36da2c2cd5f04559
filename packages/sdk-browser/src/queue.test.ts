import { describe, expect, it } from 'vitest';
import { releaseLease, tryLease } from './lease.js';
import {
  claimTabId,
  isLive,
  ORPHAN_AFTER_MS,
  overflow,
  parseRecord,
  queueKey,
  serializeRecord,
} from './queue.js';
import { memoryKV } from './store.js';

describe('overflow (queue bounds: oldest go first)', () => {
  it.each([
    { sizes: [], maxEvents: 3, maxBytes: 100, drop: 0 },
    { sizes: [10, 10, 10], maxEvents: 3, maxBytes: 100, drop: 0 },
    { sizes: [10, 10, 10, 10], maxEvents: 3, maxBytes: 100, drop: 1 },
    { sizes: [50, 10, 10, 40], maxEvents: 10, maxBytes: 60, drop: 1 },
    { sizes: [50, 10, 10, 45], maxEvents: 10, maxBytes: 60, drop: 2 },
    { sizes: [10, 200], maxEvents: 10, maxBytes: 100, drop: 2 },
    { sizes: Array<number>(1500).fill(1), maxEvents: 1000, maxBytes: 1e9, drop: 500 },
  ])(
    '$sizes.length events, max $maxEvents / $maxBytes: drop $drop',
    ({ sizes, maxEvents, maxBytes, drop }) => {
      expect(overflow(sizes, maxEvents, maxBytes)).toBe(drop);
    },
  );
});

describe('stored queue record', () => {
  it('round-trips events written as JSON text', () => {
    const events = [JSON.stringify({ messageId: 'a' }), JSON.stringify({ messageId: 'b', p: 'é' })];
    expect(parseRecord(serializeRecord(123, events))).toEqual({
      t: 123,
      q: [{ messageId: 'a' }, { messageId: 'b', p: 'é' }],
    });
  });

  it.each([null, '', '{', '{"t":"1","q":[]}', '{"t":1,"q":{}}', 'null'])(
    '%j is no record',
    (json) => {
      expect(parseRecord(json)).toBeUndefined();
    },
  );

  it.each([
    { t: 0, now: 1, live: false },
    { t: 1000, now: 1000 + ORPHAN_AFTER_MS - 1, live: true },
    { t: 1000, now: 1000 + ORPHAN_AFTER_MS, live: false },
  ])('t=$t at $now: live $live', ({ t, now, live }) => {
    expect(isLive({ t, q: [] }, now)).toBe(live);
  });
});

describe('claimTabId', () => {
  let n = 0;
  const uuid = (): string => `tab-${++n}`;

  it('keeps the id across reloads (sessionStorage) and takes a new one when a live page has it', () => {
    const session = memoryKV();
    const local = memoryKV();
    const first = claimTabId(session, local, 'cdp_', 1000, uuid);
    expect(claimTabId(session, local, 'cdp_', 2000, uuid)).toBe(first);
    // The previous page closed its queue at pagehide: the reload takes it back.
    local.set(queueKey('cdp_', first), serializeRecord(0, ['{}']));
    expect(claimTabId(session, local, 'cdp_', 3000, uuid)).toBe(first);
    // A live page writes the same id (a duplicated tab copies sessionStorage).
    local.set(queueKey('cdp_', first), serializeRecord(3000, ['{}']));
    const dup = claimTabId(session, local, 'cdp_', 3500, uuid);
    expect(dup).not.toBe(first);
    expect(session.get('cdp_tab')).toBe(dup);
  });
});

describe('lease', () => {
  it('is exclusive until it expires or is released', () => {
    const kv = memoryKV();
    expect(tryLease(kv, 'l', 'a', 1000, 100)).toBe(true);
    expect(tryLease(kv, 'l', 'b', 1050, 100)).toBe(false);
    expect(tryLease(kv, 'l', 'a', 1050, 100)).toBe(true);
    expect(tryLease(kv, 'l', 'b', 1151, 100)).toBe(true);
    releaseLease(kv, 'l', 'a');
    expect(tryLease(kv, 'l', 'a', 1160, 100)).toBe(false);
    releaseLease(kv, 'l', 'b');
    expect(kv.get('l')).toBeNull();
    expect(tryLease(kv, 'l', 'a', 1160, 100)).toBe(true);
  });

  it('loses when another tab overwrites it before the read-back', () => {
    const kv = memoryKV();
    const racing = {
      ...kv,
      set: (k: string, v: string) => (kv.set(k, v), kv.set(k, '{"id":"b","exp":9e15}')),
    };
    expect(tryLease(racing, 'l', 'a', 1000, 100)).toBe(false);
  });
});
