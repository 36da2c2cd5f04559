// Child process for the crash test: opens the embedded bus in argv[2] and
// produces numbered messages from several concurrent callers (single records
// and batches of 50) until it is killed, writing `ack <n>` to stdout for
// every message whose produce() resolved. Stdout is a pipe, and pipe writes
// are synchronous on Linux, so a printed ack reached the parent.
import { createEmbeddedBus } from '../index.js';

const [dir, fsync = 'never'] = process.argv.slice(2);
const bus = await createEmbeddedBus({ dir, fsync });
await bus.ensureTopics([{ name: 'crash', partitions: 4 }]);
process.stdout.write('ready\n');

let next = 0;
const record = (n) => ({
  key: `k${n % 16}`,
  value: JSON.stringify({ n }),
  headers: { n: String(n) },
});

async function singles() {
  for (;;) {
    const n = next++;
    await bus.produce('crash', [record(n)]);
    process.stdout.write(`ack ${n}\n`);
  }
}

async function batches() {
  for (;;) {
    const ns = Array.from({ length: 50 }, () => next++);
    await bus.produce('crash', ns.map(record));
    process.stdout.write(ns.map((n) => `ack ${n}\n`).join(''));
  }
}

await Promise.all([...Array.from({ length: 8 }, singles), batches(), batches()]);
