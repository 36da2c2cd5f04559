// Child process for the write-failure test, run under a file size limit
// (`prlimit --fsize=32768`): a segment write across the limit really fails
// (short write, then EFBIG). Prints one JSON report line on stdout.
import { createEmbeddedBus } from '../index.js';

// Without a handler the kernel's SIGXFSZ kills the process; with one, write() fails with EFBIG.
process.on('SIGXFSZ', () => {});

const [dir] = process.argv.slice(2);
const bus = await createEmbeddedBus({ dir, segmentBytes: 16_384, fsync: 'never' });
await bus.ensureTopics([{ name: 'full', partitions: 1 }]);
const small = (n) => ({ key: 'k', value: `small-${n}-${'x'.repeat(1000)}` });
const outcome = (promise) =>
  promise.then(
    () => 'ok',
    (err) => ({ code: err.code, retryable: err.retryable }),
  );

const report = {};
// About 14.6 KB: the active segment stays below segmentBytes, so no roll yet.
for (let n = 0; n < 14; n++) await bus.produce('full', [small(n)]);
// 20 KB more would take the file past 32 KB: the write fails part-way.
report.big = await outcome(bus.produce('full', [{ key: 'k', value: `big-${'y'.repeat(20_000)}` }]));
report.pingAfterFailure = await outcome(bus.ping());
// The log cuts the partial write off and carries on.
report.next = await outcome(bus.produce('full', [small(14)]));
report.pingAfterRecovery = await outcome(bus.ping());
await bus.close();
process.stdout.write(`${JSON.stringify(report)}\n`);
