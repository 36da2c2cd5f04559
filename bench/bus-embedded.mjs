// Embedded bus throughput: produce (batches of 100, and single-record calls
// from many concurrent callers) and consume, with 300-byte messages.
//
//   npx tsc -b packages/bus && node bench/bus-embedded.mjs [--fsync=interval|never|batch] [--messages=1000000]
//
// Prints figures; it is not a test and asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus } from '../packages/bus/dist/index.js';
import { writeResults } from './lib.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const fsync = args.fsync ?? 'interval';
const total = Number(args.messages ?? 1_000_000);
const singles = Number(args.singles ?? 200_000);
const concurrency = Number(args.concurrency ?? 256);
const partitions = Number(args.partitions ?? 4);
const MESSAGE_BYTES = 300;

const value = Buffer.alloc(MESSAGE_BYTES - 40, 'x'); // ~300 bytes with key and framing
const rate = (n, ms) => Math.round((n / ms) * 1000).toLocaleString('en-US');
const figures = [];

const dir = await mkdtemp(join(tmpdir(), 'cdp-bench-bus-'));
const bus = await createEmbeddedBus({ dir, fsync });
try {
  await bus.ensureTopics([
    { name: 'bench.batch', partitions },
    { name: 'bench.single', partitions },
  ]);
  console.log(
    `cores (availableParallelism): ${availableParallelism()}; fsync: ${fsync}; partitions: ${partitions}; message ~${MESSAGE_BYTES} B`,
  );

  // Produce in batches of 100, keeping a few calls in flight like an ingest server would.
  {
    const batch = Array.from({ length: 100 }, (_, i) => ({ key: `user-${i}`, value }));
    const calls = total / 100;
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < calls) {
        next++;
        await bus.produce('bench.batch', batch);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const ms = performance.now() - t0;
    console.log(
      `produce, batches of 100 (8 in flight): ${rate(total, ms)} msgs/s (${total.toLocaleString('en-US')} in ${ms.toFixed(0)} ms)`,
    );
    figures.push({
      what: 'produce, batches of 100 (8 in flight)',
      value: `${rate(total, ms)} msgs/s`,
    });
  }

  // Single-record produce calls from many concurrent callers.
  {
    let next = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (next < singles) {
        const i = next++;
        await bus.produce('bench.single', [{ key: `user-${i % 1000}`, value }]);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ms = performance.now() - t0;
    console.log(
      `produce, single record, ${concurrency} concurrent callers: ${rate(singles, ms)} msgs/s (${singles.toLocaleString('en-US')} in ${ms.toFixed(0)} ms)`,
    );
    figures.push({
      what: `produce, single record, ${concurrency} concurrent callers`,
      value: `${rate(singles, ms)} msgs/s`,
    });
  }

  // Consume the batch topic from the start with one group.
  {
    let seen = 0;
    let bytes = 0;
    const t0 = performance.now();
    let resolveDone;
    const done = new Promise((r) => (resolveDone = r));
    const sub = await bus.subscribe({
      topic: 'bench.batch',
      group: 'bench',
      handleBatch: async (b) => {
        seen += b.messages.length;
        for (const m of b.messages) bytes += m.value.length;
        if (seen >= total) resolveDone();
      },
    });
    await done;
    const ms = performance.now() - t0;
    await sub.close();
    console.log(
      `consume (1 group, ${partitions} partitions, batches up to 10,000): ${rate(seen, ms)} msgs/s (${(bytes / 1e6).toFixed(0)} MB values in ${ms.toFixed(0)} ms)`,
    );
    figures.push({
      what: `consume (1 group, ${partitions} partitions, batches up to 10,000)`,
      value: `${rate(seen, ms)} msgs/s`,
    });
  }
  writeResults(`bus-embedded-${fsync}`, {
    params: {
      fsync,
      messages: total,
      singles,
      concurrency,
      partitions,
      messageBytes: MESSAGE_BYTES,
    },
    figures,
  });
} finally {
  await bus.close();
  await rm(dir, { recursive: true, force: true });
}
