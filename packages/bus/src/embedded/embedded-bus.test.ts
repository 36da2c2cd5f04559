import { appendFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '@cdp/core';
import type { Bus, BusMessage, MessageBatch, SubscribeOptions, Subscription } from '../bus.js';
import { runBusContract } from '../contract.js';
import { createEmbeddedBus, type EmbeddedBus } from './embedded-bus.js';
import type { EmbeddedBusOptions } from './options.js';

runBusContract('embedded', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cdp-bus-contract-'));
  const opened: Bus[] = [];
  const open = async (): Promise<Bus> => {
    const bus = await createEmbeddedBus({ dir, retryBackoffMs: 20 });
    opened.push(bus);
    return bus;
  };
  return {
    bus: await open(),
    reopen: open,
    cleanup: async () => {
      for (const bus of opened) await bus.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('embedded bus', () => {
  let dir: string;
  let opened: EmbeddedBus[];
  let subs: Subscription[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cdp-bus-embedded-'));
    opened = [];
    subs = [];
  });

  afterEach(async () => {
    await Promise.allSettled(subs.map((s) => s.close()));
    for (const bus of opened) await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(opts: Partial<EmbeddedBusOptions> = {}): Promise<EmbeddedBus> {
    const bus = await createEmbeddedBus({ dir, retryBackoffMs: 20, ...opts });
    opened.push(bus);
    return bus;
  }

  async function consume(
    bus: Bus,
    topic: string,
    group: string,
    opts: Partial<SubscribeOptions> = {},
  ): Promise<{ received: BusMessage[]; sub: Subscription }> {
    const received: BusMessage[] = [];
    const sub = await bus.subscribe({
      topic,
      group,
      maxWaitMs: 5,
      handleBatch: async (b) => {
        received.push(...b.messages);
      },
      ...opts,
    });
    subs.push(sub);
    return { received, sub };
  }

  const segmentFiles = async (topic: string, partition: number): Promise<string[]> =>
    (await readdir(join(dir, 'topics', topic, String(partition))))
      .filter((f) => f.endsWith('.log'))
      .sort();

  const values = (ms: readonly BusMessage[]): string[] => ms.map((m) => m.value.toString());

  describe('crash recovery', () => {
    it('cuts a torn record off the end of a segment and keeps everything before it', async () => {
      const { logger, lines } = captureLogger();
      const bus = await open();
      await bus.ensureTopics([{ name: 'torn', partitions: 1 }]);
      for (let i = 0; i < 10; i++) await bus.produce('torn', [{ key: 'k', value: `m-${i}` }]);
      await bus.close();
      const segment = join(dir, 'topics', 'torn', '0', '00000000000000000000.log');
      const goodSize = (await stat(segment)).size;
      // What a crash mid-write leaves: a length prefix promising 500 bytes, then only some of them.
      const torn = Buffer.alloc(120, 0xab);
      torn.writeUInt32BE(500, 0);
      await appendFile(segment, torn);

      const bus2 = await open({ logger });
      const { received } = await consume(bus2, 'torn', 'g');
      await waitFor(() => received.length >= 10);
      expect(values(received)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i}`));
      expect((await stat(segment)).size).toBe(goodSize);
      expect(lines).toContainEqual(
        expect.objectContaining({ msg: 'bus_journal_torn_tail_truncated', truncatedBytes: 120 }),
      );

      await bus2.produce('torn', [{ key: 'k', value: 'after recovery' }]);
      await waitFor(() => received.length >= 11);
      expect(received[10]).toMatchObject({ offset: '10', value: Buffer.from('after recovery') });
    });

    it('drops a last record whose checksum does not match, and reuses its offset', async () => {
      const bus = await open();
      await bus.ensureTopics([{ name: 'crc', partitions: 1 }]);
      for (let i = 0; i < 5; i++) await bus.produce('crc', [{ key: 'k', value: `m-${i}` }]);
      await bus.close();
      const segment = join(dir, 'topics', 'crc', '0', '00000000000000000000.log');
      const bytes = await readFile(segment);
      bytes[bytes.length - 1]! ^= 0xff;
      await writeFile(segment, bytes);

      const bus2 = await open();
      await bus2.produce('crc', [{ key: 'k', value: 'replacement' }]);
      const { received } = await consume(bus2, 'crc', 'g');
      await waitFor(() => received.length >= 5);
      expect(values(received)).toEqual(['m-0', 'm-1', 'm-2', 'm-3', 'replacement']);
      expect(received[4]!.offset).toBe('4');
    });

    it('reads across many segments, before and after a restart, starting mid-segment', async () => {
      const bus = await open({ segmentBytes: 1024, readChunkBytes: 1000 });
      await bus.ensureTopics([{ name: 'segs', partitions: 1 }]);
      const all = Array.from({ length: 300 }, (_, i) => `${i}:${'x'.repeat(i % 50)}`);
      for (let i = 0; i < all.length; i += 10) {
        await bus.produce(
          'segs',
          all.slice(i, i + 10).map((value) => ({ key: 'k', value })),
        );
      }
      expect((await segmentFiles('segs', 0)).length).toBeGreaterThan(10);
      // Handle exactly one batch of 137; later batches fail, so nothing past it is committed.
      const firstBatch: BusMessage[] = [];
      const first = await consume(bus, 'segs', 'partial', {
        maxBatchSize: 137,
        handleBatch: (b) => {
          if (firstBatch.length > 0) return Promise.reject(new Error('one batch only'));
          firstBatch.push(...b.messages);
          return Promise.resolve();
        },
      });
      await waitFor(() => firstBatch.length >= 137);
      await first.sub.close();
      expect(values(firstBatch)).toEqual(all.slice(0, 137));
      await bus.close();

      const bus2 = await open({ segmentBytes: 1024, readChunkBytes: 1000 });
      const resumed = await consume(bus2, 'segs', 'partial');
      const fresh = await consume(bus2, 'segs', 'fresh', { maxBatchSize: 17 });
      await waitFor(() => resumed.received.length >= 163 && fresh.received.length >= 300);
      expect(values(resumed.received)).toEqual(all.slice(137));
      expect(values(fresh.received)).toEqual(all);
    });

    it('delivers the records before a corrupt one in an older segment, then stops there and logs', async () => {
      const { logger, lines } = captureLogger();
      const bus = await open({ segmentBytes: 512 });
      await bus.ensureTopics([{ name: 'rot', partitions: 1 }]);
      for (let i = 0; i < 20; i++)
        await bus.produce('rot', [{ key: 'k', value: `m-${i}-${'x'.repeat(60)}` }]);
      await bus.close();
      const [firstSegment] = await segmentFiles('rot', 0);
      const path = join(dir, 'topics', 'rot', '0', firstSegment!);
      const bytes = await readFile(path);
      // Flip a byte in the value of the third record (records here are ~110 bytes).
      const third = bytes.indexOf('m-2-');
      bytes[third + 10]! ^= 0xff;
      await writeFile(path, bytes);

      const bus2 = await open({ segmentBytes: 512, logger });
      const { received } = await consume(bus2, 'rot', 'g');
      await waitFor(() => lines.some((l) => l.msg === 'bus_consumer_read_failed'));
      expect(values(received).map((v) => v.slice(0, 4))).toEqual(['m-0-', 'm-1-']);
    });

    it('handles records larger than the read chunk', async () => {
      const big = (i: number): Buffer => Buffer.alloc(10_000 + i, i);
      const bus = await open({ readChunkBytes: 4096 });
      await bus.ensureTopics([{ name: 'big', partitions: 1 }]);
      await bus.produce(
        'big',
        [0, 1, 2].map((i) => ({ key: 'k', value: big(i) })),
      );
      await bus.close();
      const bus2 = await open({ readChunkBytes: 4096 });
      const { received } = await consume(bus2, 'big', 'g');
      await waitFor(() => received.length >= 3);
      received.forEach((m, i) => expect(m.value.equals(big(i))).toBe(true));
    });
  });

  describe('limits', () => {
    it('refuses produce with a retryable backpressure error when the write queue is full', async () => {
      const bus = await open({ maxQueuedBytes: 1024 });
      await bus.ensureTopics([{ name: 'bp', partitions: 1 }]);
      const value = Buffer.alloc(700);
      // Both calls are queued in the same tick, before any write started.
      const first = bus.produce('bp', [{ key: 'k', value }]);
      const second = bus.produce('bp', [{ key: 'k', value }]);
      await expect(second).rejects.toMatchObject({
        code: 'CDP_ERR_INGEST_BACKPRESSURE',
        retryable: true,
        statusCode: 503,
      });
      await expect(first).resolves.toBeUndefined();
      await expect(bus.produce('bp', [{ key: 'k', value }])).resolves.toBeUndefined();
    });

    it('refuses a message over the size limit, and nothing of that call is written', async () => {
      const bus = await open({ maxMessageBytes: 1000 });
      await bus.ensureTopics([{ name: 'big', partitions: 1 }]);
      const call = bus.produce('big', [
        { key: 'k', value: 'small' },
        { key: 'k', value: Buffer.alloc(2000) },
      ]);
      await expect(call).rejects.toMatchObject({
        code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE',
        retryable: false,
        field: 'records[1]',
      });
      await bus.produce('big', [{ key: 'k', value: 'next' }]);
      const { received } = await consume(bus, 'big', 'g');
      await waitFor(() => received.length >= 1);
      expect(received.map((m) => [m.offset, m.value.toString()])).toEqual([['0', 'next']]);
    });

    it('refuses a second bus on a directory that is in use, and allows it after close', async () => {
      const bus = await open();
      await expect(createEmbeddedBus({ dir })).rejects.toMatchObject({
        code: 'CDP_ERR_BUS_UNAVAILABLE',
      });
      await bus.close();
      await expect(open()).resolves.toBeDefined();
    });

    it('takes over the lock of a process that died', async () => {
      await writeFile(join(dir, 'LOCK'), '999999999\n');
      await expect(open()).resolves.toBeDefined();
    });

    it('reports every invalid option at once', async () => {
      const bad = {
        dir,
        defaultPartitions: 0,
        fsync: 'sometimes',
        maxQueuedBytes: -1,
        colour: 'blue',
      } as unknown as EmbeddedBusOptions;
      const err = await createEmbeddedBus(bad).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CDP_ERR_CONFIG_INVALID' });
      for (const field of ['defaultPartitions', 'fsync', 'maxQueuedBytes', 'colour'])
        expect((err as Error).message).toContain(field);
    });

    it('refuses topic names Kafka would refuse', async () => {
      const bus = await open();
      await expect(bus.ensureTopics([{ name: '../escape' }])).rejects.toMatchObject({
        code: 'CDP_ERR_CONFIG_INVALID',
        field: 'topic',
      });
      await expect(bus.produce('bad name', [{ key: null, value: 'x' }])).rejects.toMatchObject({
        code: 'CDP_ERR_CONFIG_INVALID',
      });
    });
  });

  describe('retention', () => {
    it('deletes whole segments once every group committed past them and they are old enough', async () => {
      const settings = { segmentBytes: 2048, retentionCheckIntervalMs: 0 };
      const bus = await open({ ...settings, retentionMs: 3_600_000 });
      await bus.ensureTopics([{ name: 'ret', partitions: 1 }]);
      const produce = async (prefix: string, n: number): Promise<void> => {
        for (let i = 0; i < n; i++)
          await bus.produce('ret', [{ key: 'k', value: `${prefix}-${i}-${'p'.repeat(250)}` }]);
      };
      await produce('a', 20);
      const slow = await consume(bus, 'ret', 'slow');
      await waitFor(() => slow.received.length >= 20);
      await slow.sub.close();
      await produce('b', 40);
      const fast = await consume(bus, 'ret', 'fast');
      await waitFor(() => fast.received.length >= 60);
      await fast.sub.close();
      const before = await segmentFiles('ret', 0);
      expect(before.length).toBeGreaterThan(5);
      // Everything is committed by someone, but nothing is old enough yet.
      expect(await bus.enforceRetention()).toBe(0);
      await bus.close();

      const bus2 = await open({ ...settings, retentionMs: 0 });
      const deleted = await bus2.enforceRetention();
      const after = await segmentFiles('ret', 0);
      expect(deleted).toBeGreaterThan(0);
      expect(after).toEqual(before.slice(deleted));
      // The slow group committed offset 20: the first kept segment still holds it.
      const firstKept = Number(after[0]!.slice(0, 20));
      expect(firstKept).toBeGreaterThan(0);
      expect(firstKept).toBeLessThanOrEqual(20);
      expect(Number(after[1]!.slice(0, 20))).toBeGreaterThan(20);

      const slowAgain = await consume(bus2, 'ret', 'slow');
      const newcomer = await consume(bus2, 'ret', 'newcomer');
      await waitFor(
        () => slowAgain.received.length >= 40 && newcomer.received.length >= 60 - firstKept,
      );
      expect(values(slowAgain.received).map((v) => v.slice(0, 4))).toEqual(
        Array.from({ length: 40 }, (_, i) => `b-${i}-`.slice(0, 4)),
      );
      expect(newcomer.received[0]!.offset).toBe(String(firstKept));
    });

    it('keeps segments a subscribed group has not committed past yet', async () => {
      const bus = await open({ segmentBytes: 1024, retentionMs: 0, retentionCheckIntervalMs: 0 });
      await bus.ensureTopics([{ name: 'held', partitions: 1 }]);
      // Subscribed, never succeeds: the group is known from the start and holds retention at 0.
      await consume(bus, 'held', 'stuck', {
        handleBatch: async () => {
          throw new Error('not yet');
        },
      });
      for (let i = 0; i < 30; i++)
        await bus.produce('held', [{ key: 'k', value: 'v'.repeat(200) }]);
      expect(await bus.enforceRetention()).toBe(0);
    });
  });

  describe('purge (erasure)', () => {
    it('deletes the files of records every group read, at once, and goes on after a restart', async () => {
      const bus = await open({ retentionCheckIntervalMs: 0 });
      await bus.ensureTopics([{ name: 'pii', partitions: 1 }]);
      await bus.produce('pii', [
        { key: 'k', value: 'ada@example.com' },
        { key: 'k', value: 'bob@example.com' },
      ]);
      const reader = await consume(bus, 'pii', 'loader');
      await waitFor(() => reader.received.length === 2);
      await reader.sub.close();
      const before = await segmentFiles('pii', 0);
      expect(before).toEqual(['00000000000000000000.log']);
      // Retention would keep it (one open segment, written just now): the purge does not.
      expect(await bus.enforceRetention()).toBe(0);
      expect(await bus.purgeConsumed(['pii'])).toBe(1);
      expect(await segmentFiles('pii', 0)).toEqual(['00000000000000000002.log']);
      const bytes = await readFile(join(dir, 'topics', 'pii', '0', '00000000000000000002.log'));
      expect(bytes.length).toBe(0);
      await bus.close();

      // Offsets go on from where they were, for the group and for new records.
      const bus2 = await open({ retentionCheckIntervalMs: 0 });
      await bus2.produce('pii', [{ key: 'k', value: 'after' }]);
      const again = await consume(bus2, 'pii', 'loader');
      const newcomer = await consume(bus2, 'pii', 'newcomer');
      await waitFor(() => again.received.length === 1 && newcomer.received.length === 1);
      expect(again.received.map((m) => [m.offset, m.value.toString()])).toEqual([['2', 'after']]);
      expect(newcomer.received.map((m) => m.offset)).toEqual(['2']);
    });
  });

  describe('consumer groups', () => {
    it('hands the partitions of a member that leaves to the one that stays, losing nothing', async () => {
      const bus = await open();
      await bus.ensureTopics([{ name: 'rebalance', partitions: 4 }]);
      const a = await consume(bus, 'rebalance', 'g');
      const b = await consume(bus, 'rebalance', 'g');
      await bus.produce(
        'rebalance',
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `one-${i}` })),
      );
      await waitFor(() => a.received.length + b.received.length >= 40);
      expect(a.received.length).toBeGreaterThan(0);
      expect(b.received.length).toBeGreaterThan(0);
      await b.sub.close();
      await bus.produce(
        'rebalance',
        Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `two-${i}` })),
      );
      await waitFor(() => a.received.length + b.received.length >= 80);
      const all = values([...a.received, ...b.received]).sort();
      expect(all).toEqual(
        [
          ...Array.from({ length: 40 }, (_, i) => `one-${i}`),
          ...Array.from({ length: 40 }, (_, i) => `two-${i}`),
        ].sort(),
      );
      expect(values(a.received).filter((v) => v.startsWith('two-'))).toHaveLength(40);
    });

    it('backs off exponentially between redeliveries, up to the cap', async () => {
      const bus = await open({ retryBackoffMs: 20, maxRetryBackoffMs: 80 });
      const attempts: number[] = [];
      const errors: unknown[] = [];
      await consume(bus, 'backoff', 'g', {
        handleBatch: async () => {
          attempts.push(performance.now());
          throw new Error('always');
        },
        onError: (err) => errors.push(err),
      });
      await bus.produce('backoff', [{ key: 'k', value: 'x' }]);
      await waitFor(() => attempts.length >= 6);
      const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
      expect(gaps[0]).toBeGreaterThanOrEqual(18);
      expect(gaps[1]).toBeGreaterThanOrEqual(38);
      expect(gaps[2]).toBeGreaterThanOrEqual(78);
      expect(gaps[3]).toBeGreaterThanOrEqual(78);
      for (const g of gaps) expect(g).toBeLessThan(80 + 500);
      expect(errors.length).toBeGreaterThanOrEqual(5);
      expect((errors[0] as Error).message).toBe('always');
    });

    it('waits for the handler in flight and its commit when a subscription closes', async () => {
      const bus = await open();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let entered = false;
      const handled: string[] = [];
      const first = await consume(bus, 'inflight', 'g', {
        handleBatch: async (b: MessageBatch) => {
          entered = true;
          await gate;
          handled.push(...values(b.messages));
        },
      });
      // The yardstick: a subscription with nothing in flight, closed right
      // after, goes through the same steps of closing, and finishes.
      const idle = await consume(bus, 'inflight-idle', 'g');
      await bus.produce('inflight', [{ key: 'k', value: 'slow' }]);
      await waitFor(() => entered);
      let closed = false;
      const closing = first.sub.close().then(() => (closed = true));
      await idle.sub.close();
      expect(closed).toBe(false);
      release();
      await closing;
      expect(handled).toEqual(['slow']);

      await bus.produce('inflight', [{ key: 'k', value: 'next' }]);
      const second = await consume(bus, 'inflight', 'g');
      await waitFor(() => second.received.length >= 1);
      expect(values(second.received)).toEqual(['next']);
    });

    it('lets handlers finish and produce while the bus closes', async () => {
      const bus = await open();
      let entered!: () => void;
      const inHandler = new Promise<void>((r) => (entered = r));
      await bus.ensureTopics([
        { name: 'stage1', partitions: 1 },
        { name: 'stage2', partitions: 1 },
      ]);
      await consume(bus, 'stage1', 'pipeline', {
        handleBatch: async (b) => {
          entered();
          await new Promise((r) => setTimeout(r, 50));
          await bus.produce(
            'stage2',
            b.messages.map((m) => ({ key: m.key, value: m.value })),
          );
        },
      });
      await bus.produce('stage1', [{ key: 'k', value: 'carried over' }]);
      await inHandler;
      await bus.close();

      const bus2 = await open();
      const stage1 = await consume(bus2, 'stage1', 'pipeline');
      const stage2 = await consume(bus2, 'stage2', 'reader');
      await waitFor(() => stage2.received.length >= 1);
      await bus2.produce('stage1', [{ key: 'k', value: 'marker' }]);
      await waitFor(() => stage1.received.length >= 1);
      expect(values(stage2.received)).toEqual(['carried over']);
      expect(values(stage1.received)).toEqual(['marker']);
    });
  });

  describe.each(['never', 'batch', 'interval'] as const)('fsync: %s', (fsync) => {
    it('round-trips and survives a restart', async () => {
      const bus = await open({ fsync, fsyncIntervalMs: 10 });
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          bus.produce('modes', [{ key: `k${i % 5}`, value: `v${i}` }]),
        ),
      );
      await bus.close();
      const bus2 = await open({ fsync });
      const { received } = await consume(bus2, 'modes', 'g');
      await waitFor(() => received.length >= 50);
      expect(values(received).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `v${i}`).sort());
    });
  });
});

function captureLogger(): {
  logger: ReturnType<typeof createLogger>;
  lines: Record<string, unknown>[];
} {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ service: 'bus-test', level: 'debug', destination }), lines };
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
