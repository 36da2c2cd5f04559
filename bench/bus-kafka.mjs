// Kafka bus throughput: produce (batches of 100, and single-record calls from
// many concurrent callers) and consume, with 300-byte messages, against a real
// broker: KAFKA_BROKERS if set, else one the test kit starts (Apache Kafka's
// jars on the local JDK, fetched once with Maven).
//
//   npx tsc -b packages/testkit packages/bus && node bench/bus-kafka.mjs \
//     [--messages=300000] [--singles=50000] [--concurrency=256] [--in-flight=8] \
//     [--compression=none|gzip] [--linger=2] [--partitions=4]
//
// Prints figures; it is not a test and asserts nothing. The broker runs on the
// same machine, so on a small one it competes with this process for cores.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createKafkaBus } from '../packages/bus/dist/kafka/index.js';
import { startKafka } from '../packages/testkit/dist/index.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const total = Number(args.messages ?? 300_000);
const singles = Number(args.singles ?? 50_000);
const concurrency = Number(args.concurrency ?? 256);
const inFlight = Number(args['in-flight'] ?? 8);
const partitions = Number(args.partitions ?? 4);
const compression = args.compression ?? 'none';
const lingerMs = Number(args.linger ?? 2);
const MESSAGE_BYTES = 300;

// A JSON-ish value so gzip has something realistic to work on.
const value = Buffer.from(
  JSON.stringify({
    type: 'track',
    event: 'Product Viewed',
    properties: { sku: 'SKU-12345', price: 19.99, currency: 'EUR' },
    pad: '',
  }).padEnd(MESSAGE_BYTES - 12, ' '),
);
const rate = (n, ms) => Math.round((n / ms) * 1000).toLocaleString('en-US');

const t0 = performance.now();
const kafka = await startKafka({ log: (line) => process.stderr.write(`${line}\n`) });
const startupMs = performance.now() - t0;
const bus = await createKafkaBus({
  brokers: [...kafka.brokers],
  clientId: 'cdp-bench',
  compression,
  lingerMs,
});
const run = randomBytes(3).toString('hex');
const batchTopic = `bench.kafka.batch.${run}`;
const singleTopic = `bench.kafka.single.${run}`;
try {
  await bus.ensureTopics([
    { name: batchTopic, partitions },
    { name: singleTopic, partitions },
  ]);
  console.log(
    `cores (availableParallelism): ${availableParallelism()}; broker: ${kafka.kind} ${kafka.brokers.join(',')} (ready in ${(startupMs / 1000).toFixed(1)} s); ` +
      `partitions: ${partitions}; message ~${value.length + 10} B; compression: ${compression}; linger: ${lingerMs} ms; acks: all, idempotent`,
  );

  // Produce in batches of 100, keeping a few calls in flight like an ingest server would.
  {
    const batch = Array.from({ length: 100 }, (_, i) => ({ key: `user-${i}`, value }));
    const calls = Math.ceil(total / 100);
    let next = 0;
    const t = performance.now();
    const worker = async () => {
      while (next < calls) {
        next++;
        await bus.produce(batchTopic, batch);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const ms = performance.now() - t;
    console.log(
      `produce, batches of 100 (${inFlight} in flight): ${rate(calls * 100, ms)} msgs/s (${(calls * 100).toLocaleString('en-US')} in ${ms.toFixed(0)} ms)`,
    );
  }

  // Single-record produce calls from many concurrent callers (coalesced by the adapter).
  if (singles > 0) {
    let next = 0;
    const t = performance.now();
    const worker = async () => {
      while (next < singles) {
        const i = next++;
        await bus.produce(singleTopic, [{ key: `user-${i % 1000}`, value }]);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - t;
    console.log(
      `produce, single record, ${concurrency} concurrent callers: ${rate(singles, ms)} msgs/s (${singles.toLocaleString('en-US')} in ${ms.toFixed(0)} ms)`,
    );
  }

  // Consume the batch topic from the start with one new group.
  {
    const expected = Math.ceil(total / 100) * 100;
    let seen = 0;
    let bytes = 0;
    let resolveDone;
    const done = new Promise((r) => (resolveDone = r));
    const t = performance.now();
    const sub = await bus.subscribe({
      topic: batchTopic,
      group: `bench-${run}`,
      handleBatch: async (b) => {
        seen += b.messages.length;
        for (const m of b.messages) bytes += m.value.length;
        if (seen >= expected) resolveDone();
      },
    });
    await done;
    const ms = performance.now() - t;
    await sub.close();
    console.log(
      `consume (1 group, ${partitions} partitions, incl. group join): ${rate(seen, ms)} msgs/s (${(bytes / 1e6).toFixed(0)} MB values in ${ms.toFixed(0)} ms)`,
    );
  }
} finally {
  await bus.close();
  await kafka.stop();
}
