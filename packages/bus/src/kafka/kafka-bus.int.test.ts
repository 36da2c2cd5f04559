/**
 * The Kafka adapter against a real Apache Kafka broker: the shared `Bus`
 * contract, plus what only Kafka has (the Java client's partitioning, broker
 * limits, a broker that goes away). The broker comes from the int project's
 * global setup (`@cdp/testkit`); without one these tests skip, except in CI,
 * where `kafkaBrokersForTest()` throws and the file fails.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { CdpError, createLogger } from '@cdp/core';
import {
  fetchKafkaLibs,
  freePort,
  isCi,
  kafkaBrokersForTest,
  kafkaUnavailableReason,
  startJvmBroker,
  waitFor,
  type KafkaHandle,
} from '@cdp/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage, ProduceRecord, Subscription } from '../bus.js';
import { runBusContract } from '../contract.js';
import { createKafkaBus } from './kafka-bus.js';
import type { KafkaBusOptions } from './options.js';

const brokers = kafkaBrokersForTest();
const logger = createLogger({
  service: 'bus-kafka-test',
  level: process.env['CDP_TEST_LOG_LEVEL'] ?? 'silent',
});

function open(over: Partial<KafkaBusOptions> = {}): Promise<Bus> {
  return createKafkaBus({ brokers: brokers!, clientId: 'cdp-int-test', logger, ...over });
}

function unique(label: string): string {
  return `kafka-int.${label}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

async function consumeAll(
  bus: Bus,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ messages: BusMessage[]; sub: Subscription }> {
  const messages: BusMessage[] = [];
  const sub = await bus.subscribe({
    topic,
    group: `${topic}-reader`,
    maxWaitMs: 20,
    handleBatch: (b) => {
      messages.push(...b.messages);
      return Promise.resolve();
    },
  });
  await waitFor(() => messages.length >= count, {
    timeoutMs,
    what: `${count} messages on ${topic}`,
  });
  return { messages, sub };
}

if (brokers === undefined) {
  describe.skip(`Kafka bus (no broker: ${kafkaUnavailableReason() ?? 'unknown'})`, () => {
    it('needs a Kafka broker', () => undefined);
  });
} else {
  runBusContract('kafka', async () => {
    const opened: Bus[] = [];
    const bus = await open();
    opened.push(bus);
    return {
      bus,
      reopen: async () => {
        const again = await open();
        opened.push(again);
        return again;
      },
      cleanup: async () => {
        await Promise.allSettled(opened.map((b) => b.close()));
      },
    };
  });

  describe('Kafka bus: adapter specifics', () => {
    let bus: Bus;
    beforeAll(async () => {
      bus = await open();
    });
    afterAll(async () => {
      await bus?.close();
    });

    it('reports its kind and answers ping', async () => {
      expect(bus.kind).toBe('kafka');
      await expect(bus.ping()).resolves.toBeUndefined();
    });

    it('puts keys on the partitions the Java client picks (murmur2)', async () => {
      // Expected partitions (of 4) computed with org.apache.kafka.common.utils.Utils.murmur2 from kafka-clients 4.3.1.
      const java: Record<string, number> = {
        '21': 0,
        foobar: 2,
        'user-1': 0,
        'anon-42': 1,
        'välue ✓': 0,
        'key-0': 1,
        'key-1': 0,
        'key-2': 2,
        'key-3': 3,
      };
      const topic = unique('murmur2');
      await bus.ensureTopics([{ name: topic, partitions: 4 }]);
      await bus.produce(
        topic,
        Object.keys(java).map((key) => ({ key, value: key })),
      );
      const { messages, sub } = await consumeAll(bus, topic, Object.keys(java).length);
      await sub.close();
      const seen = Object.fromEntries(messages.map((m) => [m.key, m.partition]));
      expect(seen).toEqual(java);
    });

    it('stores every record once when a new topic answers "not the leader" for some partitions', async () => {
      // Just after a topic is created, some partitions may refuse a produce
      // while others store theirs; kafkajs then retries the whole request.
      // Keyless records must go back to the partitions they were first sent
      // to, or they are stored twice (and the idempotence sequence of the
      // first partition is rolled back, which can drop a later batch).
      // Counted from the partitions' end offsets, so nothing hides a duplicate.
      const admin = new Kafka({ brokers: [...brokers], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        for (let round = 0; round < 15; round++) {
          const topic = unique('fresh');
          await bus.ensureTopics([{ name: topic, partitions: 4 }]);
          await bus.produce(topic, [
            { key: null, value: 'a' },
            { key: 'user-1', value: 'b' },
            { key: null, value: 'c' },
            { key: 'user-2', value: 'd' },
            { key: null, value: 'e' },
          ]);
          await bus.produce(
            topic,
            Array.from({ length: 5 }, (_, i) => ({ key: null, value: `later-${i}` })),
          );
          const offsets = await admin.fetchTopicOffsets(topic);
          expect(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)).toBe(10);
        }
      } finally {
        await admin.disconnect();
      }
    });

    it('keeps per-key order across many concurrent produce calls (coalesced into shared requests)', async () => {
      const topic = unique('concurrent');
      await bus.ensureTopics([{ name: topic, partitions: 4 }]);
      const keys = Array.from({ length: 8 }, (_, i) => `ck-${i}`);
      const calls: Promise<void>[] = [];
      for (let seq = 0; seq < 250; seq++) {
        calls.push(
          bus.produce(
            topic,
            keys.map((key) => ({ key, value: `${key}:${seq}` })),
          ),
        );
      }
      await Promise.all(calls);
      const { messages, sub } = await consumeAll(bus, topic, 2_000);
      await sub.close();
      expect(messages).toHaveLength(2_000);
      for (const key of keys) {
        const seqs = messages
          .filter((m) => m.key === key)
          .map((m) => Number(m.value.toString().split(':')[1]));
        expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i));
      }
    });

    it('splits a produce call bigger than one request and delivers all of it', async () => {
      const topic = unique('split');
      const small = await open({ maxRequestBytes: 64 * 1024, maxMessageBytes: 16 * 1024 });
      try {
        const value = randomBytes(5_000);
        await small.produce(
          topic,
          Array.from({ length: 100 }, (_, i) => ({ key: `s-${i % 5}`, value })),
        );
        const { messages, sub } = await consumeAll(small, topic, 100);
        await sub.close();
        expect(messages.every((m) => m.value.equals(value))).toBe(true);
      } finally {
        await small.close();
      }
    });

    it('refuses a record over maxMessageBytes before sending, without failing other callers', async () => {
      const topic = unique('toolarge');
      await bus.ensureTopics([{ name: topic }]);
      const big: ProduceRecord = { key: 'k', value: Buffer.alloc(1_100_000) };
      const [fine, tooLarge] = await Promise.allSettled([
        bus.produce(topic, [{ key: 'k', value: 'small' }]),
        bus.produce(topic, [big]),
      ]);
      expect(fine.status).toBe('fulfilled');
      expect(tooLarge.status === 'rejected' && tooLarge.reason).toMatchObject({
        code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE',
        retryable: false,
      });
    });

    it("translates the broker's own MESSAGE_TOO_LARGE into a non-retryable error", async () => {
      // Raise the adapter's limits past the broker's message.max.bytes (1 MiB) so the broker refuses.
      const lax = await open({ maxMessageBytes: 3_000_000, maxRequestBytes: 3_000_000 });
      try {
        const topic = unique('brokerlimit');
        const err = await lax
          .produce(topic, [{ key: 'k', value: randomBytes(2_000_000) }])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CdpError);
        expect(err).toMatchObject({ code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE', retryable: false });
        // The next send goes out on a new producer (ProducerSession) and is acknowledged.
        await expect(lax.produce(topic, [{ key: 'k', value: 'fits' }])).resolves.toBeUndefined();
      } finally {
        await lax.close();
      }
    });

    it('refuses bad topic names and subscribe options with CDP_ERR_CONFIG_INVALID', async () => {
      await expect(bus.produce('bad topic!', [{ key: null, value: 'x' }])).rejects.toMatchObject({
        code: 'CDP_ERR_CONFIG_INVALID',
        field: 'topic',
      });
      await expect(
        bus.ensureTopics([{ name: unique('parts'), partitions: 0 }]),
      ).rejects.toMatchObject({ code: 'CDP_ERR_CONFIG_INVALID' });
      await expect(
        bus.subscribe({ topic: unique('sub'), group: '', handleBatch: () => Promise.resolve() }),
      ).rejects.toMatchObject({ code: 'CDP_ERR_CONFIG_INVALID' });
    });

    it('close() waits for the handler in flight and commits what it handled', async () => {
      const topic = unique('closewait');
      const group = `${topic}-g`;
      await bus.produce(topic, [
        { key: 'k', value: 'slow' },
        { key: 'k', value: 'next' },
      ]);
      let entered = false;
      let finished = false;
      const sub = await bus.subscribe({
        topic,
        group,
        maxBatchSize: 1,
        handleBatch: async (b) => {
          if (b.messages[0]!.value.toString() !== 'slow') return;
          entered = true;
          await new Promise((r) => setTimeout(r, 1_500));
          finished = true;
        },
      });
      await waitFor(() => entered, { timeoutMs: 20_000, what: 'the slow handler to start' });
      await sub.close();
      expect(finished).toBe(true);

      // 'slow' was committed on the way out; 'next' was never handed over.
      const again: string[] = [];
      const sub2 = await bus.subscribe({
        topic,
        group,
        handleBatch: (b) => {
          again.push(...b.messages.map((m) => m.value.toString()));
          return Promise.resolve();
        },
      });
      await waitFor(() => again.length >= 1, {
        timeoutMs: 20_000,
        what: 'the uncommitted message',
      });
      await sub2.close();
      expect(again).toEqual(['next']);
    });

    it(
      'keeps the group alive through a handler slower than the session timeout (heartbeats during the handler)',
      { timeout: 60_000 },
      async () => {
        const quick = await open({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 });
        try {
          const topic = unique('slow');
          await quick.produce(topic, [
            { key: 'k', value: 'slow-1' },
            { key: 'k', value: 'slow-2' },
          ]);
          const seen: string[] = [];
          let calls = 0;
          const sub = await quick.subscribe({
            topic,
            group: `${topic}-g`,
            maxBatchSize: 1,
            handleBatch: async (b) => {
              calls++;
              if (calls === 1) await new Promise((r) => setTimeout(r, 8_000));
              seen.push(...b.messages.map((m) => m.value.toString()));
            },
          });
          await waitFor(() => seen.length >= 2, { timeoutMs: 30_000, what: 'both messages' });
          await sub.close();
          // Had the member been dropped mid-handler, its commit would fail and slow-1 would come twice.
          expect(seen).toEqual(['slow-1', 'slow-2']);
          expect(calls).toBe(2);
        } finally {
          await quick.close();
        }
      },
    );
  });

  describe('Kafka bus: when the broker is not there', () => {
    it('fails to connect to a closed port with a retryable CDP_ERR_BUS_UNAVAILABLE', async () => {
      const port = await freePort();
      const started = Date.now();
      const err = await createKafkaBus({
        brokers: [`127.0.0.1:${port}`],
        logger,
        retries: 1,
        connectionTimeoutMs: 500,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CdpError);
      expect(err).toMatchObject({ code: 'CDP_ERR_BUS_UNAVAILABLE', retryable: true });
      expect(Date.now() - started).toBeLessThan(15_000);
    });

    it('times out against a port that accepts but never answers, with a retryable error', async () => {
      const silent = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      const port = (silent.address() as { port: number }).port;
      try {
        const err = await createKafkaBus({
          brokers: [`127.0.0.1:${port}`],
          logger,
          retries: 0,
          requestTimeoutMs: 1_000,
          connectionTimeoutMs: 500,
        }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'CDP_ERR_BUS_UNAVAILABLE', retryable: true });
      } finally {
        silent.close();
      }
    });

    // A broker of its own, so stopping it does not disturb the shared one:
    // Apache Kafka's jars on the local JDK, whatever the shared broker is
    // (KAFKA_BROKERS or a container leave no jars behind: they are fetched
    // with Maven then). Without jars this skips outside CI and fails in CI,
    // like every Kafka test.
    describe('a dedicated broker that stops', () => {
      let own: KafkaHandle | undefined;
      let libsDir: string | undefined;
      let unavailable: string | undefined;
      beforeAll(async () => {
        try {
          libsDir = (await fetchKafkaLibs({ log: (l) => process.stderr.write(`[testkit] ${l}\n`) }))
            .libsDir;
        } catch (err) {
          if (isCi()) throw err;
          unavailable = err instanceof Error ? err.message : String(err);
          process.stderr.write(`[testkit] skipping the broker-outage test: ${unavailable}\n`);
        }
      }, 600_000);
      afterAll(async () => {
        await own?.stop();
      });

      it(
        'rejects produce with retryable errors once the broker is gone: unavailable, then backpressure when the queue is full',
        { timeout: 120_000 },
        async ({ skip }) => {
          if (libsDir === undefined) return skip(`no Kafka jars: ${unavailable ?? 'unknown'}`);
          own = await startJvmBroker({
            libsDir,
            log: (l) => process.stderr.write(l + '\n'),
          });
          const doomed = await createKafkaBus({
            brokers: [...own.brokers],
            logger,
            retries: 2,
            connectionTimeoutMs: 500,
            requestTimeoutMs: 3_000,
            maxQueuedBytes: 50_000,
            pingTimeoutMs: 1_000,
          });
          try {
            const topic = unique('gone');
            await doomed.produce(topic, [{ key: 'k', value: 'while up' }]);
            await own.stop();

            const started = Date.now();
            const first = await doomed
              .produce(topic, [{ key: 'k', value: 'while down' }])
              .catch((e: unknown) => e);
            expect(first).toBeInstanceOf(CdpError);
            expect((first as CdpError).retryable).toBe(true);
            expect(['CDP_ERR_BUS_UNAVAILABLE', 'CDP_ERR_INGEST_BACKPRESSURE']).toContain(
              (first as CdpError).code,
            );
            expect(Date.now() - started).toBeLessThan(30_000);

            // With a request stuck on the dead broker, the byte budget fills and further calls are refused at once.
            const value = Buffer.alloc(10_000);
            const calls = Array.from({ length: 10 }, () =>
              doomed.produce(topic, [{ key: 'k', value }]).catch((e: unknown) => e),
            );
            const results = await Promise.all(calls);
            expect(results.every((r) => r instanceof CdpError && r.retryable)).toBe(true);
            expect(
              results.some((r) => (r as CdpError).code === 'CDP_ERR_INGEST_BACKPRESSURE'),
            ).toBe(true);

            await expect(doomed.ping()).rejects.toMatchObject({
              code: 'CDP_ERR_BUS_UNAVAILABLE',
              retryable: true,
            });
          } finally {
            await doomed.close();
          }
        },
      );
    });
  });
}
