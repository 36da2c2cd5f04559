import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from './chunk.js';
import { createDelivery, leaseKey, type Delivery } from './delivery.js';
import { resolveOptions, type CdpOptions } from './options.js';
import { parseRecord, queueKey, serializeRecord } from './queue.js';
import { memoryKV, type KV } from './store.js';
import {
  fakeTransport,
  manualClock,
  settle,
  type FakeTransport,
  type ManualClock,
} from './test/fakes.js';
import type { CdpEvent } from './types.js';

interface Harness {
  d: Delivery;
  t: FakeTransport;
  clock: ManualClock;
  storage: KV;
  logs: string[];
  warnings: string[];
  net: { online: boolean };
  stored(): string[];
}

function harness(
  options: CdpOptions = {},
  pre: { storage?: KV; clock?: ManualClock; online?: boolean; tabId?: string } = {},
): Harness {
  const clock = pre.clock ?? manualClock();
  const t = fakeTransport(clock.now);
  const storage = pre.storage ?? memoryKV();
  const logs: string[] = [];
  const warnings: string[] = [];
  const net = { online: pre.online ?? true };
  const tabId = pre.tabId ?? 'tab1';
  const d = createDelivery({
    url: 'https://c.example/v1/b',
    writeKey: 'wk_1',
    transport: t,
    storage,
    tabId,
    options: resolveOptions(options),
    now: clock.now,
    random: () => 0.5,
    online: () => net.online,
    timers: clock.timers,
    log: (m) => void logs.push(m),
    warn: (m) => void warnings.push(m),
  });
  const stored = (): string[] =>
    (parseRecord(storage.get(queueKey('cdp_', tabId)))?.q ?? []).map(
      (e) => (e as CdpEvent).messageId,
    );
  return { d, t, clock, storage, logs, warnings, net, stored };
}

let seq = 0;
function ev(extra: Partial<CdpEvent> = {}): CdpEvent {
  seq++;
  return {
    type: 'track',
    event: `E${seq}`,
    messageId: `m${seq}`,
    timestamp: '2025-03-01T12:00:00.000Z',
    anonymousId: 'a1',
    properties: {},
    context: {
      library: { name: 'x', version: '0' },
      page: { url: '', path: '', title: '', referrer: '', search: '' },
      userAgent: 'u',
      sessionId: 1,
    },
    ...extra,
  };
}
const ids = (r: { body: { batch: Record<string, unknown>[] } }): unknown[] =>
  r.body.batch.map((e) => e['messageId']);

describe('delivery: batching', () => {
  it('sends a full batch at once as {batch, writeKey, sentAt} with keepalive', async () => {
    const h = harness({ batch: { size: 3 } });
    const events = [ev(), ev(), ev()];
    for (const e of events) h.d.add(e);
    await settle();
    expect(h.t.sent).toHaveLength(1);
    const req = h.t.sent[0]!;
    expect(req.url).toBe('https://c.example/v1/b');
    expect(req.keepalive).toBe(true);
    expect(req.body).toEqual({
      batch: events,
      writeKey: 'wk_1',
      sentAt: new Date(h.clock.now()).toISOString(),
    });
    expect(h.stored()).toEqual([]);
    expect(h.storage.keys()).toEqual([]);
  });

  it('sends a partial batch once its wait is over', async () => {
    const h = harness({ batch: { size: 20, waitMs: 1000 } });
    h.d.add(ev());
    await h.clock.advance(600);
    h.d.add(ev());
    await h.clock.advance(399);
    expect(h.t.sent).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.t.sent).toHaveLength(1);
    expect(h.t.sent[0]!.body.batch).toHaveLength(2);
  });

  it('stores every event when added and removes it when acknowledged', async () => {
    const h = harness();
    const [a, b] = [ev(), ev()];
    h.d.add(a);
    h.d.add(b);
    expect(h.stored()).toEqual([a.messageId, b.messageId]);
    await h.d.flush();
    expect(h.stored()).toEqual([]);
    expect(h.d.size()).toBe(0);
  });

  it('splits a big queue into bodies under 64 KB', async () => {
    const h = harness({ batch: { size: 100 } });
    const big = 'x'.repeat(5000);
    for (let i = 0; i < 40; i++) h.d.add(ev({ properties: { big } }));
    await h.d.flush();
    expect(h.t.sent.length).toBeGreaterThan(3);
    for (const r of h.t.sent) expect(r.bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(h.t.sent.flatMap(ids)).toHaveLength(40);
  });

  it('refuses an event over 32 KB and one that cannot be serialized, saying why', () => {
    const h = harness();
    h.d.add(ev({ properties: { big: 'x'.repeat(40_000) } }));
    h.d.add(ev({ properties: { n: 10n } }));
    expect(h.d.size()).toBe(0);
    expect(h.warnings).toEqual([
      expect.stringContaining('over 32768 bytes'),
      expect.stringContaining('cannot be serialized'),
    ]);
  });

  it('keeps the newest events when the stored queue is full', () => {
    const h = harness({ queue: { maxEvents: 3 } }, { online: false });
    const events = [ev(), ev(), ev(), ev(), ev()];
    for (const e of events) h.d.add(e);
    expect(h.stored()).toEqual(events.slice(2).map((e) => e.messageId));
    expect(h.logs).toContain('queue_full_dropped_oldest');
  });
});

describe('delivery: failures', () => {
  it('retries 5xx with jittered backoff, same events, same messageIds', async () => {
    const h = harness({ retry: { baseMs: 1000 } });
    h.t.answers = [503, 502];
    const e = ev();
    h.d.add(e);
    await h.d.flush();
    expect(h.t.sent).toHaveLength(1);
    expect(h.stored()).toEqual([e.messageId]);
    // Attempt 1: between 500 and 1000 ms; random 0.5 -> 750.
    await h.clock.advance(749);
    expect(h.t.sent).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.t.sent).toHaveLength(2);
    // Attempt 2: doubled -> 1500.
    await h.clock.advance(1500);
    expect(h.t.sent).toHaveLength(3);
    expect(h.t.sent.map(ids)).toEqual([[e.messageId], [e.messageId], [e.messageId]]);
    expect(h.stored()).toEqual([]);
  });

  it.each([
    { what: 'seconds', retryAfter: '3', wait: 3000 },
    {
      what: 'an HTTP date',
      retryAfter: new Date(Date.parse('2025-03-01T12:00:05Z')).toUTCString(),
      wait: 5000,
    },
  ])('honours Retry-After as $what on 429', async ({ retryAfter, wait }) => {
    const h = harness({ retry: { baseMs: 10 } });
    h.t.answers = [{ status: 429, retryAfter }];
    h.d.add(ev());
    await h.d.flush();
    await h.clock.advance(wait - 1);
    expect(h.t.sent).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.t.sent).toHaveLength(2);
  });

  it('drops events refused with a 4xx, without retry, logging once', async () => {
    const h = harness();
    h.t.answers = [400, 401];
    h.d.add(ev());
    await h.d.flush();
    h.d.add(ev());
    await h.d.flush();
    await h.clock.advance(120_000);
    expect(h.t.sent).toHaveLength(2);
    expect(h.stored()).toEqual([]);
    expect(h.logs.filter((l) => l === 'events_dropped')).toHaveLength(1);
  });

  it('treats a 2xx with per-event rejections as acknowledged', async () => {
    const h = harness();
    h.d.add(ev());
    await h.d.flush();
    await h.clock.advance(60_000);
    expect(h.t.sent).toHaveLength(1);
    expect(h.stored()).toEqual([]);
  });

  it('gives an event up after retry.maxAttempts', async () => {
    const h = harness({ retry: { maxAttempts: 2, baseMs: 10 } });
    h.t.answers = [503, 'network'];
    h.d.add(ev());
    await h.d.flush();
    await h.clock.advance(1000);
    expect(h.t.sent).toHaveLength(2);
    expect(h.stored()).toEqual([]);
    expect(h.logs).toContain('events_given_up');
    await h.clock.advance(60_000);
    expect(h.t.sent).toHaveLength(2);
  });

  it('while offline tries nothing, counts nothing, and sends on `online`', async () => {
    const h = harness({ retry: { maxAttempts: 1 } }, { online: false });
    const e = ev();
    h.d.add(e);
    await h.d.flush();
    await h.clock.advance(60_000);
    expect(h.t.sent).toHaveLength(0);
    expect(h.stored()).toEqual([e.messageId]);
    h.net.online = true;
    h.d.online();
    await settle();
    expect(h.t.sent.map(ids)).toEqual([[e.messageId]]);
  });

  it('a network error that turns out to be offline is no attempt', async () => {
    const h = harness({ retry: { maxAttempts: 1 } });
    h.t.answers = ['network'];
    let open!: () => void;
    h.t.gate = new Promise((r) => (open = r));
    const e = ev();
    h.d.add(e);
    const flushed = h.d.flush();
    await settle();
    h.net.online = false;
    h.t.gate = undefined;
    open();
    await flushed;
    expect(h.stored()).toEqual([e.messageId]);
    h.net.online = true;
    h.d.online();
    await settle();
    expect(h.t.sent.map(ids)).toEqual([[e.messageId], [e.messageId]]);
    expect(h.stored()).toEqual([]);
  });

  it('flush() during a backoff resolves without sending', async () => {
    const h = harness();
    h.t.answers = [503];
    h.d.add(ev());
    await h.d.flush();
    await h.d.flush();
    expect(h.t.sent).toHaveLength(1);
  });
});

describe('delivery: page hide and unload', () => {
  it('pagehide sends waiting events in beacons and forgets them', () => {
    const h = harness();
    const [a, b] = [ev(), ev()];
    h.d.add(a);
    h.d.add(b);
    h.d.hide(true);
    expect(h.t.beacons).toEqual([{ batch: [a, b], writeKey: 'wk_1', sentAt: expect.any(String) }]);
    expect(h.t.sent).toHaveLength(0);
    expect(h.storage.keys()).toEqual([]);
  });

  it('pagehide leaves events of an in-flight keepalive request to it, beacons the rest, stores neither', async () => {
    const h = harness({ batch: { size: 1 } });
    let open!: () => void;
    h.t.gate = new Promise((r) => (open = r));
    const a = ev();
    h.d.add(a);
    await settle();
    // `b` waits behind the request in flight.
    const b = ev();
    h.d.add(b);
    h.d.hide(true);
    expect(h.t.sent.map(ids)).toEqual([[a.messageId]]);
    expect(h.t.beacons.map((x) => x.batch.map((e) => e['messageId']))).toEqual([[b.messageId]]);
    expect(h.storage.keys()).toEqual([]);
    open();
    await settle();
    expect(h.storage.keys()).toEqual([]);
    expect(h.d.size()).toBe(0);
  });

  it('a handed-off request that the dying page sees fail stays handed off (not stored)', async () => {
    const h = harness({ batch: { size: 1 } });
    let open!: () => void;
    h.t.gate = new Promise((r) => (open = r));
    h.t.answers = ['network'];
    h.d.add(ev());
    await settle();
    h.d.hide(true);
    const late = ev();
    h.d.add(late);
    open();
    await settle();
    // Only the event added after pagehide is stored, and the queue stays closed.
    expect(parseRecord(h.storage.get(queueKey('cdp_', 'tab1')))).toEqual({ t: 0, q: [late] });
  });

  it('a page back from the bfcache owns its queue again', async () => {
    const h = harness({}, { online: false });
    const a = ev();
    h.d.add(a);
    h.d.hide(true);
    expect(parseRecord(h.storage.get(queueKey('cdp_', 'tab1')))?.t).toBe(0);
    h.net.online = true;
    h.d.resume();
    expect(parseRecord(h.storage.get(queueKey('cdp_', 'tab1')))?.t).toBe(h.clock.now());
    await h.clock.advance(1000);
    expect(h.t.sent.map(ids)).toEqual([[a.messageId]]);
  });

  it('pagehide with beacons refused: keepalive requests, events stay stored, queue closed', () => {
    const h = harness();
    h.t.beaconAccepts = false;
    const a = ev();
    h.d.add(a);
    h.d.hide(true);
    expect(h.t.sent.map(ids)).toEqual([[a.messageId]]);
    expect(h.t.sent[0]!.keepalive).toBe(true);
    expect(parseRecord(h.storage.get(queueKey('cdp_', 'tab1')))).toEqual({ t: 0, q: [a] });
  });

  it('pagehide offline keeps everything stored, closed for the next page to take', () => {
    const h = harness({}, { online: false });
    const a = ev();
    h.d.add(a);
    h.d.hide(true);
    expect(h.t.beacons).toHaveLength(0);
    expect(parseRecord(h.storage.get(queueKey('cdp_', 'tab1')))).toEqual({ t: 0, q: [a] });
  });

  it('visibilitychange to hidden sends at once with keepalive', async () => {
    const h = harness();
    h.d.add(ev());
    h.d.hide(false);
    await settle();
    expect(h.t.sent).toHaveLength(1);
    expect(h.t.sent[0]!.keepalive).toBe(true);
    expect(h.t.beacons).toHaveLength(0);
  });
});

describe('delivery: next visit and other tabs', () => {
  it('a reload finds its own stored queue and sends it', async () => {
    const storage = memoryKV();
    const first = harness({}, { storage, online: false });
    const [a, b] = [ev(), ev()];
    first.d.add(a);
    first.d.add(b);
    first.d.hide(true);
    const again = harness({}, { storage });
    await settle();
    expect(again.t.sent.map(ids)).toEqual([[a.messageId, b.messageId]]);
    expect(storage.keys()).toEqual([]);
  });

  it("takes over closed and silent tabs' queues under the lease, leaves live ones, skips duplicates", async () => {
    const clock = manualClock();
    const now = clock.now();
    const storage = memoryKV();
    const [a, b, c, d] = [ev(), ev(), ev(), ev()];
    storage.set(
      queueKey('cdp_', 'closed'),
      serializeRecord(0, [JSON.stringify(a), JSON.stringify(b)]),
    );
    storage.set(
      queueKey('cdp_', 'silent'),
      serializeRecord(now - 10 * 60_000, [JSON.stringify(b), JSON.stringify(c)]),
    );
    storage.set(queueKey('cdp_', 'live'), serializeRecord(now - 1000, [JSON.stringify(d)]));
    storage.set(queueKey('cdp_', 'junk'), '{not json');
    const h = harness({}, { storage, clock });
    await settle();
    expect(h.t.sent.map(ids)).toEqual([[a.messageId, b.messageId, c.messageId]]);
    expect(storage.keys().sort()).toEqual([queueKey('cdp_', 'live')]);
    expect(storage.get(leaseKey('cdp_'))).toBeNull();
  });

  it('leaves orphans alone while another tab holds the lease, and takes them when back online later', async () => {
    const clock = manualClock();
    const storage = memoryKV();
    const a = ev();
    storage.set(queueKey('cdp_', 'closed'), serializeRecord(0, [JSON.stringify(a)]));
    storage.set(leaseKey('cdp_'), JSON.stringify({ id: 'other', exp: clock.now() + 5000 }));
    const h = harness({}, { storage, clock });
    await settle();
    expect(h.t.sent).toHaveLength(0);
    expect(storage.get(queueKey('cdp_', 'closed'))).not.toBeNull();
    await h.clock.advance(6000);
    h.d.online();
    await settle();
    expect(h.t.sent.map(ids)).toEqual([[a.messageId]]);
  });
});
