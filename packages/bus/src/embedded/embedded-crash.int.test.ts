/**
 * Real failures, in child processes: a producer killed with SIGKILL
 * mid-stream (every message whose produce() had resolved must be in the
 * journal after a restart, exactly once), and a segment write that really
 * fails part-way (file size limit).
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusMessage } from '../bus.js';
import { createEmbeddedBus } from './embedded-bus.js';
import { partitionForKey } from './partitioner.js';

const fixtures = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
const ACKS_BEFORE_KILL = 5_000;

describe('embedded bus under kill -9', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cdp-bus-crash-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['never', 'interval'] as const)(
    'keeps every acknowledged message exactly once (fsync: %s)',
    { timeout: 60_000 },
    async (fsync) => {
      const acked = await produceUntilKilled(dir, fsync, ACKS_BEFORE_KILL);
      expect(acked.size).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

      const bus = await createEmbeddedBus({ dir });
      try {
        const seen: BusMessage[] = [];
        const sentinels = new Set<number>();
        const sub = await bus.subscribe({
          topic: 'crash',
          group: 'verify',
          maxWaitMs: 5,
          handleBatch: async (b) => {
            for (const m of b.messages) {
              if (m.headers.sentinel !== undefined) sentinels.add(m.partition);
              else seen.push(m);
            }
          },
        });
        // One sentinel per partition, produced after the restart: once each is
        // seen, everything the crashed process left in that partition was read.
        await bus.produce(
          'crash',
          [0, 1, 2, 3].map((p) => ({
            key: keyFor(p, 4),
            value: 'end',
            headers: { sentinel: '1' },
          })),
        );
        await waitFor(() => sentinels.size === 4, 30_000);
        await sub.close();

        const count = new Map<number, number>();
        for (const m of seen) {
          const n = (JSON.parse(m.value.toString()) as { n: number }).n;
          expect(m.headers.n).toBe(String(n));
          count.set(n, (count.get(n) ?? 0) + 1);
        }
        const missing = [...acked].filter((n) => count.get(n) !== 1);
        expect(missing, 'acknowledged messages not there exactly once').toEqual([]);
        expect(
          [...count.values()].every((c) => c === 1),
          'no message is in the journal twice',
        ).toBe(true);
        // Per key, the journal holds messages in the order they were produced.
        const lastByKey = new Map<string, number>();
        for (const m of seen) {
          const n = (JSON.parse(m.value.toString()) as { n: number }).n;
          expect(n).toBeGreaterThan(lastByKey.get(m.key!) ?? -1);
          lastByKey.set(m.key!, n);
        }
      } finally {
        await bus.close();
      }
    },
  );
});

describe('embedded bus when a journal write fails', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cdp-bus-fsize-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!hasPrlimit())(
    'refuses the produce with a retryable error, cuts the partial write off and carries on',
    { timeout: 30_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        'prlimit',
        [
          '--fsize=32768',
          process.execPath,
          '--conditions=source',
          '--import',
          join(fixtures, 'register-ts.mjs'),
          join(fixtures, 'write-failure.mjs'),
          dir,
        ],
        { timeout: 20_000 },
      );
      expect(JSON.parse(stdout)).toEqual({
        big: { code: 'CDP_ERR_INGEST_BACKPRESSURE', retryable: true },
        pingAfterFailure: { code: 'CDP_ERR_BUS_UNAVAILABLE', retryable: true },
        next: 'ok',
        pingAfterRecovery: 'ok',
      });

      const bus = await createEmbeddedBus({ dir });
      try {
        const seen: BusMessage[] = [];
        const sub = await bus.subscribe({
          topic: 'full',
          group: 'verify',
          maxWaitMs: 5,
          handleBatch: async (b) => void seen.push(...b.messages),
        });
        await waitFor(() => seen.length >= 15, 10_000);
        await sub.close();
        expect(
          seen.map((m) => [m.offset, m.value.toString().split('-').slice(0, 2).join('-')]),
        ).toEqual(Array.from({ length: 15 }, (_, i) => [String(i), `small-${i}`]));
      } finally {
        await bus.close();
      }
    },
  );
});

function hasPrlimit(): boolean {
  return process.platform === 'linux' && existsSync('/usr/bin/prlimit');
}

/** Runs the producer fixture until it acknowledged `acks` messages, SIGKILLs it, and returns what it acknowledged. */
async function produceUntilKilled(dir: string, fsync: string, acks: number): Promise<Set<number>> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      join(fixtures, 'register-ts.mjs'),
      join(fixtures, 'produce-until-killed.mjs'),
      dir,
      fsync,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit');
  try {
    await waitFor(() => {
      if (child.exitCode !== null)
        throw new Error(`producer exited early (${child.exitCode}): ${stderr}`);
      return countAckLines(stdout) >= acks;
    }, 30_000);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const acked = new Set<number>();
  // Only whole lines: the kill may cut the last one.
  for (const line of stdout.slice(0, stdout.lastIndexOf('\n')).split('\n')) {
    if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
  }
  return acked;
}

/** Whole `ack <n>` lines in `s` (the fixture also prints `ready`, which is not an ack). */
function countAckLines(s: string): number {
  let n = 0;
  for (
    let start = 0, end = s.indexOf('\n');
    end >= 0;
    start = end + 1, end = s.indexOf('\n', start)
  )
    if (s.startsWith('ack ', start)) n++;
  return n;
}

function keyFor(partition: number, partitions: number): string {
  for (let i = 0; ; i++)
    if (partitionForKey(`sentinel-${i}`, partitions) === partition) return `sentinel-${i}`;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
