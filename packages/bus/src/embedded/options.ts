import { CdpError, type Logger } from '@cdp/core';
import type { FsyncMode } from './partition-log.js';

const MiB = 1024 * 1024;

/** Settings of the embedded bus. Every field but `dir` is optional; defaults are listed. */
export interface EmbeddedBusOptions {
  /** Data directory (created if missing). One open bus per directory. */
  readonly dir: string;
  /** Partitions of a topic created without an explicit count (default 4). */
  readonly defaultPartitions?: number;
  /**
   * When the journal is forced to stable storage (default `interval`).
   *
   * - `never`: data is handed to the OS with `write()` before `produce()`
   *   resolves, so it survives the process being killed (even `kill -9`),
   *   since the page cache belongs to the kernel. A kernel crash or power loss
   *   can lose the last few seconds. Fastest.
   * - `interval`: as `never`, plus an `fdatasync` every `fsyncIntervalMs`;
   *   power loss loses at most about that window.
   * - `batch`: `produce()` resolves only after the write holding its records
   *   was `fdatasync`ed; nothing acknowledged is lost even on power loss.
   *   Slowest for single-record calls, since each group commit waits for the
   *   disk (group commit still shares one sync among concurrent callers).
   *
   * Committed consumer offsets are fsynced only in `batch` mode; elsewhere a
   * lost commit means some messages are delivered again (at-least-once).
   */
  readonly fsync?: FsyncMode;
  /** Period of the `interval` fsync (default 200 ms). */
  readonly fsyncIntervalMs?: number;
  /** Largest encoded record (key, headers, value and 33 bytes of framing) accepted (default 1 MiB). */
  readonly maxMessageBytes?: number;
  /** Bytes accepted but not yet written above which `produce()` is refused with a retryable error (default 64 MiB). */
  readonly maxQueuedBytes?: number;
  /** A segment file is closed and a new one started once it reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  /**
   * A closed segment is deleted once it was last written longer ago than this
   * and every consumer group that ever committed on its topic has committed
   * past it (default 7 days). A topic no group ever consumed is cleaned by
   * age alone, like Kafka.
   */
  readonly retentionMs?: number;
  /** How often retention runs (default 60 s; 0 disables the timer, `enforceRetention()` still works). */
  readonly retentionCheckIntervalMs?: number;
  /** First delay before a failed batch is delivered again; doubles per failure (default 100 ms). */
  readonly retryBackoffMs?: number;
  /** Cap of that delay (default 5,000 ms). */
  readonly maxRetryBackoffMs?: number;
  /** Bytes read from a segment file per read call when consuming (default 1 MiB). */
  readonly readChunkBytes?: number;
  /** Logger for recovery, retention and failures (default: silent). */
  readonly logger?: Logger;
}

/** Options with defaults applied, validated and frozen. */
export type ResolvedOptions = Readonly<Required<Omit<EmbeddedBusOptions, 'logger'>>> & {
  readonly logger: Logger | undefined;
};

const DEFAULTS = {
  defaultPartitions: 4,
  fsync: 'interval',
  fsyncIntervalMs: 200,
  maxMessageBytes: MiB,
  maxQueuedBytes: 64 * MiB,
  segmentBytes: 64 * MiB,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionCheckIntervalMs: 60_000,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 5_000,
  readChunkBytes: MiB,
} as const satisfies Omit<ResolvedOptions, 'dir' | 'logger'>;

const FSYNC_MODES: readonly string[] = ['never', 'batch', 'interval'];
const KNOWN = new Set<string>(['dir', 'logger', ...Object.keys(DEFAULTS)]);

/**
 * Applies defaults and checks every setting, reporting all problems in one
 * `CDP_ERR_CONFIG_INVALID` error. Unknown keys are refused (typos).
 */
export function resolveOptions(input: EmbeddedBusOptions): ResolvedOptions {
  const problems: string[] = [];
  for (const key of Object.keys(input))
    if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);
  if (typeof input.dir !== 'string' || input.dir === '')
    problems.push('dir: required, a directory path');
  const merged = { ...DEFAULTS, ...stripUndefined(input) };
  const positiveInts = [
    'defaultPartitions',
    'fsyncIntervalMs',
    'maxMessageBytes',
    'maxQueuedBytes',
    'segmentBytes',
    'retryBackoffMs',
    'maxRetryBackoffMs',
    'readChunkBytes',
  ] as const;
  for (const key of positiveInts) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v <= 0)
      problems.push(`${key}: must be a positive integer, got ${String(v)}`);
  }
  for (const key of ['retentionMs', 'retentionCheckIntervalMs'] as const) {
    const v = merged[key];
    if (!Number.isSafeInteger(v) || v < 0)
      problems.push(`${key}: must be a non-negative integer, got ${String(v)}`);
  }
  if (!FSYNC_MODES.includes(merged.fsync))
    problems.push(`fsync: must be one of ${FSYNC_MODES.join(', ')}, got ${String(merged.fsync)}`);
  if (problems.length > 0) {
    throw new CdpError('CDP_ERR_CONFIG_INVALID', {
      message: `Invalid embedded bus options: ${problems.join('; ')}`,
    });
  }
  return Object.freeze({ ...merged, dir: input.dir, logger: input.logger });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
