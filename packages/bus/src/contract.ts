/**
 * The contract every `Bus` adapter must pass, as a vitest suite:
 *
 * ```ts
 * runBusContract('embedded', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'bus-'));
 *   const bus = await createEmbeddedBus({ dir });
 *   return { bus, cleanup: async () => { await bus.close(); await rm(dir, { recursive: true }); } };
 * });
 * ```
 *
 * Every test uses its own topic and group names (random suffix), so the
 * suite can run against a shared, long-lived Kafka broker. Waits poll with a
 * timeout; nothing sleeps for a fixed time.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  Bus,
  BusMessage,
  MessageBatch,
  ProduceRecord,
  SubscribeOptions,
  Subscription,
} from './bus.js';

/** What the factory of {@link runBusContract} returns for each test. */
export interface BusContractHarness {
  /** A fresh, open bus. */
  readonly bus: Bus;
  /**
   * For durable adapters: opens a new bus over the same storage, after the
   * test closed `bus`. The restart tests are skipped without it.
   */
  readonly reopen?: () => Promise<Bus>;
  /** Closes every bus the harness opened (closing twice must be harmless) and removes its storage. */
  readonly cleanup: () => Promise<void>;
}

/** How long one wait may take; generous for a Kafka group join. */
const WAIT_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

/**
 * Declares the `Bus` contract tests for one adapter. `factory` runs before
 * each test and must give a bus nobody else is consuming from in ways that
 * matter (unique names make sharing a broker safe).
 */
export function runBusContract(name: string, factory: () => Promise<BusContractHarness>): void {
  describe(`Bus contract: ${name}`, () => {
    let h: BusContractHarness;
    let subs: Subscription[];

    beforeEach(async () => {
      h = await factory();
      subs = [];
    });

    afterEach(async () => {
      await Promise.allSettled(subs.map((s) => s.close()));
      await h.cleanup();
    });

    /** Subscribes, recording every message handed to a handler that succeeded. */
    async function consume(
      bus: Bus,
      topic: string,
      group: string,
      extra: Partial<Pick<SubscribeOptions, 'maxBatchSize' | 'maxWaitMs' | 'onError'>> & {
        readonly fail?: (batch: MessageBatch) => boolean;
      } = {},
    ): Promise<Consumer> {
      const c: Consumer = {
        received: [],
        batches: [],
        failedBatches: [],
        sub: undefined as unknown as Subscription,
      };
      const { fail, ...opts } = extra;
      c.sub = await bus.subscribe({
        topic,
        group,
        maxWaitMs: 20,
        ...opts,
        handleBatch: (batch) => {
          if (fail?.(batch) === true) {
            c.failedBatches.push(batch);
            return Promise.reject(new Error('contract test: handler failure'));
          }
          c.batches.push(batch);
          c.received.push(...batch.messages);
          return Promise.resolve();
        },
      });
      subs.push(c.sub);
      return c;
    }

    it(
      'delivers key, headers, value bytes and metadata intact',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('roundtrip');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const binary = Buffer.concat([
          Buffer.from([0, 1, 127, 128, 254, 255, 0]),
          randomBytes(256),
        ]);
        const before = Date.now();
        await bus.produce(n.topic, [
          {
            key: 'user-1',
            value: binary,
            headers: { 'content-type': 'application/octet-stream', 'x-ünïcode': 'välue ✓' },
          },
          { key: 'user-1', value: '{"text":"wörld ✓"}' },
          { key: null, value: 'no key' },
        ]);
        const after = Date.now();
        const c = await consume(bus, n.topic, n.group('a'));
        await waitFor('3 messages', () => c.received.length >= 3);

        const [first, second] = c.received.filter((m) => m.key === 'user-1');
        const unkeyed = c.received.find((m) => m.key === null);
        expect(c.received).toHaveLength(3);
        expect(first!.value.equals(binary)).toBe(true);
        expect(first!.headers).toEqual({
          'content-type': 'application/octet-stream',
          'x-ünïcode': 'välue ✓',
        });
        expect(second!.value.toString('utf8')).toBe('{"text":"wörld ✓"}');
        expect(second!.headers).toEqual({});
        expect(second!.partition).toBe(first!.partition);
        expect(BigInt(second!.offset)).toBeGreaterThan(BigInt(first!.offset));
        expect(unkeyed!.value.toString('utf8')).toBe('no key');
        for (const m of c.received) {
          expect(m.topic).toBe(n.topic);
          expect(Buffer.isBuffer(m.value)).toBe(true);
          expect(m.offset).toMatch(/^\d+$/);
          expect(Number.isInteger(m.partition) && m.partition >= 0 && m.partition < 4).toBe(true);
          // Clocks of a broker and this process may differ a little.
          expect(m.timestamp).toBeGreaterThanOrEqual(before - 60_000);
          expect(m.timestamp).toBeLessThanOrEqual(after + 60_000);
        }
      },
    );

    it(
      'keeps the order of each key, within one partition',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('order');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const keys = Array.from({ length: 10 }, (_, i) => `key-${i}`);
        for (let round = 0; round < 6; round++) {
          const records: ProduceRecord[] = [];
          for (let j = 0; j < 5; j++)
            for (const key of keys) records.push({ key, value: `${key}:${round * 5 + j}` });
          await bus.produce(n.topic, records);
        }
        const c = await consume(bus, n.topic, n.group('a'), { maxBatchSize: 37 });
        await waitFor('300 messages', () => c.received.length >= 300);

        expect(c.received).toHaveLength(300);
        for (const key of keys) {
          const mine = c.received.filter((m) => m.key === key);
          expect(mine.map((m) => Number(m.value.toString().split(':')[1]))).toEqual(
            Array.from({ length: 30 }, (_, i) => i),
          );
          expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
        }
        const lastOffset = new Map<number, bigint>();
        for (const m of c.received) {
          const prev = lastOffset.get(m.partition);
          if (prev !== undefined) expect(BigInt(m.offset)).toBeGreaterThan(prev);
          lastOffset.set(m.partition, BigInt(m.offset));
        }
      },
    );

    it(
      'sends a key to the same partition on every produce call, and spreads keys',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('samekey');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const keys = Array.from({ length: 20 }, (_, i) => `anon-${i}-${n.id}`);
        for (let call = 0; call < 3; call++) {
          await Promise.all(keys.map((key) => bus.produce(n.topic, [{ key, value: `${call}` }])));
        }
        const c = await consume(bus, n.topic, n.group('a'));
        await waitFor('60 messages', () => c.received.length >= 60);

        for (const key of keys) {
          const partitions = new Set(
            c.received.filter((m) => m.key === key).map((m) => m.partition),
          );
          expect(partitions.size, `partitions of ${key}`).toBe(1);
        }
        expect(new Set(c.received.map((m) => m.partition)).size).toBeGreaterThan(1);
      },
    );

    it(
      'delivers every message to each of two consumer groups',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('twogroups');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const values = Array.from({ length: 40 }, (_, i) => `m-${i}`);
        await bus.produce(
          n.topic,
          values.map((value, i) => ({ key: `k-${i % 7}`, value })),
        );
        const g1 = await consume(bus, n.topic, n.group('one'));
        const g2 = await consume(bus, n.topic, n.group('two'));
        await waitFor(
          '40 messages in both groups',
          () => g1.received.length >= 40 && g2.received.length >= 40,
        );

        expect(sortedValues(g1.received)).toEqual([...values].sort());
        expect(sortedValues(g2.received)).toEqual([...values].sort());
      },
    );

    it(
      'splits the messages between two members of a group, without duplicates',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('members');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const group = n.group('shared');
        const a = await consume(bus, n.topic, group);
        const b = await consume(bus, n.topic, group);
        const produced: string[] = [];
        const union = (): BusMessage[] => [...a.received, ...b.received];
        // Produce in waves until both members got something: a broker may
        // still be rebalancing when subscribe() returns.
        for (
          let wave = 0;
          wave < 20 && (a.received.length === 0 || b.received.length === 0);
          wave++
        ) {
          const values = Array.from({ length: 16 }, (_, i) => `w${wave}-${i}`);
          await bus.produce(
            n.topic,
            values.map((value, i) => ({ key: `member-key-${i}`, value })),
          );
          produced.push(...values);
          await waitFor(`wave ${wave} consumed`, () => union().length >= produced.length);
        }

        expect(a.received.length).toBeGreaterThan(0);
        expect(b.received.length).toBeGreaterThan(0);
        expect(sortedValues(union())).toEqual([...produced].sort());
      },
    );

    it(
      'redelivers a batch whose handler threw, and never commits past it',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('retry');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const group = n.group('a');
        const key = 'one-partition';
        await bus.produce(
          n.topic,
          ['ok-0', 'ok-1', 'ok-2'].map((value) => ({ key, value })),
        );
        const errors: MessageBatch[] = [];
        const first = await consume(bus, n.topic, group, {
          fail: (batch) => batch.messages.some((m) => m.value.toString() === 'bad'),
          onError: (_err, batch) => errors.push(batch),
        });
        await waitFor('the good messages', () => first.received.length >= 3);
        await bus.produce(
          n.topic,
          ['bad', 'after-bad'].map((value) => ({ key, value })),
        );
        await waitFor(
          'two failed deliveries',
          () => first.failedBatches.length >= 2 && errors.length >= 2,
        );

        const [try1, try2] = first.failedBatches.map((b) => b.messages[0]!);
        expect(try1!.value.toString()).toBe('bad');
        expect(try2!.value.toString()).toBe('bad');
        expect(try2!.offset).toBe(try1!.offset);
        expect(try2!.partition).toBe(try1!.partition);
        expect(first.received.map((m) => m.value.toString())).toEqual(['ok-0', 'ok-1', 'ok-2']);

        await first.sub.close();
        const second = await consume(bus, n.topic, group);
        await waitFor('the uncommitted messages', () => second.received.length >= 2);
        expect(second.received.map((m) => m.value.toString())).toEqual(['bad', 'after-bad']);
        expect(second.received[0]!.offset).toBe(try1!.offset);
      },
    );

    it(
      'resumes a group after close and re-subscribe with only the uncommitted messages',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('resume');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        const group = n.group('a');
        const key = 'resume-key';
        const firstValues = Array.from({ length: 5 }, (_, i) => `first-${i}`);
        const secondValues = Array.from({ length: 5 }, (_, i) => `second-${i}`);
        await bus.produce(
          n.topic,
          firstValues.map((value) => ({ key, value })),
        );
        const one = await consume(bus, n.topic, group);
        await waitFor('the first five', () => one.received.length >= 5);
        await one.sub.close();

        await bus.produce(
          n.topic,
          secondValues.map((value) => ({ key, value })),
        );
        const two = await consume(bus, n.topic, group);
        await waitFor('the second five', () => two.received.length >= 5);
        // One key, one partition: anything old would have come first.
        expect(two.received.map((m) => m.value.toString())).toEqual(secondValues);

        const fresh = await consume(bus, n.topic, n.group('fresh'));
        await waitFor('all ten for a new group', () => fresh.received.length >= 10);
        expect(fresh.received.map((m) => m.value.toString())).toEqual([
          ...firstValues,
          ...secondValues,
        ]);
      },
    );

    it(
      'respects maxBatchSize and hands over one partition per batch, in offset order',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('batch');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        await bus.produce(
          n.topic,
          Array.from({ length: 60 }, (_, i) => ({ key: `bk-${i % 3}`, value: `v-${i}` })),
        );
        const c = await consume(bus, n.topic, n.group('a'), { maxBatchSize: 7 });
        await waitFor('60 messages', () => c.received.length >= 60);

        expect(c.received).toHaveLength(60);
        for (const batch of c.batches) {
          expect(batch.topic).toBe(n.topic);
          expect(batch.messages.length).toBeGreaterThan(0);
          expect(batch.messages.length).toBeLessThanOrEqual(7);
          const offsets = batch.messages.map((m) => BigInt(m.offset));
          for (const m of batch.messages) expect(m.partition).toBe(batch.partition);
          for (let i = 1; i < offsets.length; i++)
            expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
        }
      },
    );

    it(
      'makes ensureTopics idempotent and honours the partition count',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('ensure');
        await bus.ensureTopics([]);
        await bus.ensureTopics([{ name: n.topic, partitions: 3 }]);
        await bus.ensureTopics([{ name: n.topic, partitions: 3 }]);
        await Promise.all([
          bus.ensureTopics([{ name: n.topic, partitions: 3 }]),
          bus.ensureTopics([{ name: n.topic, partitions: 3 }]),
        ]);
        await bus.produce(
          n.topic,
          Array.from({ length: 30 }, (_, i) => ({ key: `ek-${i}`, value: `${i}` })),
        );
        const c = await consume(bus, n.topic, n.group('a'));
        await waitFor('30 messages', () => c.received.length >= 30);

        expect(c.received).toHaveLength(30);
        for (const m of c.received) expect(m.partition).toBeLessThan(3);
        expect(new Set(c.received.map((m) => m.partition)).size).toBeGreaterThan(1);
      },
    );

    it(
      'answers ping while open, closes cleanly and refuses work after close',
      { timeout: TEST_TIMEOUT_MS },
      async () => {
        const { bus } = h;
        const n = names('close');
        await bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        await expect(bus.ping()).resolves.toBeUndefined();
        const c = await consume(bus, n.topic, n.group('a'));
        await bus.produce(n.topic, [{ key: 'x', value: 'before close' }]);
        await waitFor('the message', () => c.received.length >= 1);

        await bus.close();
        await expect(bus.ping()).rejects.toThrow();
        await expect(
          bus.produce(n.topic, [{ key: 'x', value: 'after close' }]),
        ).rejects.toMatchObject({ code: 'CDP_ERR_BUS_CLOSED' });
        await expect(c.sub.close()).resolves.toBeUndefined();
        await expect(bus.close()).resolves.toBeUndefined();
        expect(c.received.map((m) => m.value.toString())).toEqual(['before close']);
      },
    );

    it(
      'keeps acknowledged messages and committed offsets across a restart',
      { timeout: TEST_TIMEOUT_MS },
      async (ctx) => {
        if (h.reopen === undefined) {
          ctx.skip();
          return;
        }
        const n = names('restart');
        const group = n.group('a');
        const key = 'restart-key';
        await h.bus.ensureTopics([{ name: n.topic, partitions: 4 }]);
        await h.bus.produce(
          n.topic,
          Array.from({ length: 10 }, (_, i) => ({ key, value: `a-${i}` })),
        );
        const one = await consume(h.bus, n.topic, group);
        await waitFor('the first ten', () => one.received.length >= 10);
        await one.sub.close();
        const unconsumed = Array.from({ length: 5 }, (_, i) => `b-${i}`);
        await h.bus.produce(
          n.topic,
          unconsumed.map((value) => ({ key, value })),
        );
        await h.bus.close();

        const bus2 = await h.reopen();
        const two = await consume(bus2, n.topic, group);
        await waitFor('the five uncommitted', () => two.received.length >= 5);
        expect(two.received.map((m) => m.value.toString())).toEqual(unconsumed);
        const fresh = await consume(bus2, n.topic, n.group('fresh'));
        await waitFor('all fifteen', () => fresh.received.length >= 15);
        expect(fresh.received).toHaveLength(15);
      },
    );

    it(
      'purges what every group has read, and keeps what one has not',
      { timeout: TEST_TIMEOUT_MS * 2 },
      async () => {
        const { bus } = h;
        const n = names('purge');
        await bus.ensureTopics([{ name: n.topic, partitions: 1 }]);
        await bus.produce(n.topic, [
          { key: 'k', value: 'secret-1' },
          { key: 'k', value: 'secret-2' },
          { key: 'k', value: 'kept-3' },
        ]);
        const a = await consume(bus, n.topic, n.group('a'));
        // b handles one record per batch and cannot handle kept-3 yet.
        let bStuck = true;
        const b = await consume(bus, n.topic, n.group('b'), {
          maxBatchSize: 1,
          fail: (batch) => bStuck && batch.messages.some((m) => m.value.toString() === 'kept-3'),
        });
        await waitFor(
          'a to read all and b to fail on kept-3',
          () => a.received.length === 3 && b.received.length === 2 && b.failedBatches.length > 0,
        );
        /** What a new group reads from the start, up to a marker produced now. */
        const fromStart = async (label: string): Promise<string[]> => {
          const marker = `marker-${label}`;
          await bus.produce(n.topic, [{ key: 'k', value: marker }]);
          const c = await consume(bus, n.topic, n.group(label));
          await waitFor(marker, () => c.received.some((m) => m.value.toString() === marker));
          await c.sub.close();
          return c.received.map((m) => m.value.toString()).filter((v) => !v.startsWith('marker-'));
        };

        await bus.purgeConsumed([n.topic]);
        // kept-3 is unread by b: it stays, whatever the adapter deletes.
        expect(await fromStart('c1')).toContain('kept-3');
        // A topic that does not exist has nothing to purge.
        expect(await bus.purgeConsumed([`${n.topic}.none`])).toBe(0);

        bStuck = false;
        await waitFor('b to read kept-3', () =>
          b.received.some((m) => m.value.toString() === 'kept-3'),
        );
        // Every group reads everything from now on: purged, nothing of the
        // three is left to read from the start. Commits land right after the
        // handlers, so purge again until a purge finds them.
        const deadline = Date.now() + WAIT_MS;
        let round = 2;
        let left: string[];
        do {
          await bus.purgeConsumed([n.topic]);
          left = await fromStart(`c${round++}`);
        } while (left.length > 0 && Date.now() < deadline);
        expect(left).toEqual([]);
      },
    );
  });
}

interface Consumer {
  readonly received: BusMessage[];
  readonly batches: MessageBatch[];
  readonly failedBatches: MessageBatch[];
  sub: Subscription;
}

/** A topic and group names unique to one test (Kafka-safe characters). */
function names(label: string): { id: string; topic: string; group: (member: string) => string } {
  const id = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  return {
    id,
    topic: `contract.${label}.${id}`,
    group: (member) => `contract-${label}-${member}-${id}`,
  };
}

function sortedValues(messages: readonly BusMessage[]): string[] {
  return messages.map((m) => m.value.toString('utf8')).sort();
}

/** Polls `condition` every 10 ms until it holds; fails the test after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
