/**
 * The consumer loop of one partition for one group member: read a batch,
 * hand it to the member's handler, commit, repeat. Batches of one partition
 * are handled strictly one after another (ordering); a failed batch is
 * delivered again, unchanged, after an exponential backoff, and the
 * committed offset never moves past a message whose handler did not succeed.
 */
import type { Logger } from '@cdp/core';
import type { BusMessage, MessageBatch, SubscribeOptions } from '../bus.js';
import { backoffMs, sleep } from './async-utils.js';
import type { OffsetStore } from './offset-store.js';
import type { LogReader } from './log-reader.js';
import type { PartitionLog } from './partition-log.js';

/** Defaults of the port's subscribe options. */
export const DEFAULT_MAX_BATCH_SIZE = 10_000;
export const DEFAULT_MAX_WAIT_MS = 100;

/** What a worker needs. */
export interface PartitionWorkerDeps {
  readonly topic: string;
  readonly partition: number;
  readonly log: PartitionLog;
  readonly offsets: OffsetStore;
  readonly member: SubscribeOptions;
  readonly retryBackoffMs: number;
  readonly maxRetryBackoffMs: number;
  readonly logger: Logger;
}

/** Consumes one partition for one member until stopped. */
export class PartitionWorker {
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  /** Starts consuming at once. */
  constructor(private readonly deps: PartitionWorkerDeps) {
    this.done = this.run().catch((err: unknown) => {
      deps.logger.error(
        { err, topic: deps.topic, partition: deps.partition, group: deps.member.group },
        'bus_consumer_crashed',
      );
    });
  }

  /** Stops fetching and resolves after the handler in flight returned and its commit is on disk. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    const { topic, partition, log, offsets, member, logger } = this.deps;
    const signal = this.abort.signal;
    const maxBatch = member.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    const maxWait = member.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    const committed = offsets.get(member.group, topic, partition);
    const start = Math.max(committed ?? 0, log.startOffset);
    // A group becomes known (and holds back retention) from its first
    // subscription, not from its first successful batch.
    if (committed === undefined) {
      await offsets.commit(member.group, topic, partition, start).catch((err: unknown) => {
        logger.error({ err, topic, partition, group: member.group }, 'bus_offset_commit_failed');
      });
    }
    const reader = log.reader(start);
    let readFailures = 0;

    // The bus stops workers before it closes logs; the log check only keeps a
    // stray worker from spinning on a closed log.
    while (!signal.aborted && !log.isClosed) {
      let messages: BusMessage[];
      try {
        messages = await this.fill(reader, maxBatch, maxWait);
        readFailures = 0;
      } catch (err) {
        logger.error({ err, topic, partition, group: member.group }, 'bus_consumer_read_failed');
        await sleep(
          backoffMs(readFailures++, this.deps.retryBackoffMs, this.deps.maxRetryBackoffMs),
          signal,
        );
        continue;
      }
      if (messages.length === 0 || signal.aborted) continue;
      const batch: MessageBatch = { topic, partition, messages };
      if (!(await this.handle(batch))) return;
      const next = Number(messages[messages.length - 1]!.offset) + 1;
      try {
        await offsets.commit(member.group, topic, partition, next);
      } catch (err) {
        // The in-memory offset moved on; the next commit rewrites the file.
        // At worst a restart delivers this batch again.
        logger.error({ err, topic, partition, group: member.group }, 'bus_offset_commit_failed');
      }
    }
  }

  /**
   * Reads what is there; if that is less than a full batch, waits up to
   * `maxWait` ms for more. Waits without limit while nothing is there.
   */
  private async fill(reader: LogReader, maxBatch: number, maxWait: number): Promise<BusMessage[]> {
    const { log } = this.deps;
    const signal = this.abort.signal;
    let messages = await reader.read(maxBatch);
    if (messages.length === 0) {
      await log.waitForAppend(reader.nextOffset, signal);
      return [];
    }
    const deadline = Date.now() + maxWait;
    while (messages.length < maxBatch && !signal.aborted) {
      const left = deadline - Date.now();
      if (left <= 0 || !(await log.waitForAppend(reader.nextOffset, signal, left))) break;
      try {
        messages = messages.concat(await reader.read(maxBatch - messages.length));
      } catch {
        // The reader has moved past what it returned: hand that over now;
        // the next read meets the same failure and reports it.
        break;
      }
    }
    return messages;
  }

  /** Runs the handler until it succeeds (true) or the worker is stopped while retrying (false). */
  private async handle(batch: MessageBatch): Promise<boolean> {
    const { member, logger } = this.deps;
    const signal = this.abort.signal;
    for (let attempt = 0; ; attempt++) {
      try {
        await member.handleBatch(batch);
        return true;
      } catch (err) {
        const first = batch.messages[0]!.offset;
        logger.warn(
          {
            err,
            topic: batch.topic,
            partition: batch.partition,
            group: member.group,
            offset: first,
            attempt,
          },
          'bus_handler_failed',
        );
        try {
          member.onError?.(err, batch);
        } catch (hookErr) {
          logger.error({ err: hookErr }, 'bus_on_error_hook_threw');
        }
        if (signal.aborted) return false;
        await sleep(
          backoffMs(attempt, this.deps.retryBackoffMs, this.deps.maxRetryBackoffMs),
          signal,
        );
        if (signal.aborted) return false;
      }
    }
  }
}
