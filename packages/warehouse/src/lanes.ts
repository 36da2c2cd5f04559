import PQueue from 'p-queue';
import { CdpError } from '@cdp/core';

/**
 * What a statement is for, which decides its turn on a chDB session: writes
 * and the platform's own statements first, then queries a person is waiting
 * for. (Ad-hoc SQL has a lane of its own: {@link createAdhocGate}.)
 */
export type Lane = 'system' | 'interactive';

const PRIORITY: Readonly<Record<Lane, number>> = { system: 2, interactive: 1 };

/** Runs the statements of one warehouse connection. */
export interface SessionScheduler {
  run<T>(lane: Lane, fn: () => Promise<T>): Promise<T>;
}

/**
 * One statement at a time, highest lane first: what a chDB session needs.
 *
 * chDB runs a session's statements one after the other behind a native lock,
 * and each waiting statement holds a libuv worker thread while it waits
 * (measured with chdb 3.4: four statements queued on one session stopped
 * `fs.readFile` and every other session of the process until they ran). So
 * the queue is kept here, in JS, where a waiting statement costs nothing and
 * an insert can go before the queries that wait.
 */
export function createSerialScheduler(): SessionScheduler {
  const queue = new PQueue({ concurrency: 1 });
  return {
    run: (lane, fn) => queue.add(fn, { priority: PRIORITY[lane] }),
  };
}

/** A server runs statements side by side: nothing to schedule here. */
export function createDirectScheduler(): SessionScheduler {
  return { run: (_lane, fn) => fn() };
}

/** Settings of the ad-hoc lane (`queryReadonly`). */
export interface AdhocLaneOptions {
  /** Ad-hoc queries running at once (default 2). */
  readonly maxConcurrent?: number | undefined;
  /** More that may wait for a turn (default: no limit); one more is refused at once. */
  readonly maxQueued?: number | undefined;
  /** Milliseconds one may wait for its turn before it is refused (default: no limit). */
  readonly queueTimeoutMs?: number | undefined;
}

/** Admission of ad-hoc queries: a cap on how many run, and on how many wait and how long. */
export interface AdhocGate {
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Running now. */
  readonly running: number;
  /** Waiting for a turn. */
  readonly waiting: number;
}

function busy(message: string): CdpError {
  return new CdpError('CDP_ERR_SQL_BUSY', { message, retryable: true });
}

/**
 * At most `maxConcurrent` ad-hoc queries run; up to `maxQueued` more wait, each
 * at most `queueTimeoutMs`; past either, `CDP_ERR_SQL_BUSY` (429, retryable:
 * the load passes). A query that has started is never cut short here: its
 * own `max_execution_time` ends it.
 */
export function createAdhocGate(opts: AdhocLaneOptions = {}): AdhocGate {
  const maxConcurrent = opts.maxConcurrent ?? 2;
  const maxQueued = opts.maxQueued ?? Number.POSITIVE_INFINITY;
  const queueTimeoutMs = opts.queueTimeoutMs;
  const queue = new PQueue({ concurrency: maxConcurrent });
  return {
    get running() {
      return queue.pending;
    },
    get waiting() {
      return queue.size;
    },
    async run<T>(fn: () => Promise<T>): Promise<T> {
      if (queue.pending >= maxConcurrent && queue.size >= maxQueued) {
        throw busy(
          `${queue.pending} ad-hoc queries are running and ${queue.size} waiting (the most); retry later`,
        );
      }
      if (queueTimeoutMs === undefined) return queue.add(fn);
      const waited = new AbortController();
      const timer = setTimeout(() => waited.abort(), queueTimeoutMs);
      try {
        // The timer is cleared as the query starts: aborting p-queue's signal
        // after that would free the slot while the query still runs.
        return await queue.add(
          () => {
            clearTimeout(timer);
            return fn();
          },
          { signal: waited.signal },
        );
      } catch (e) {
        if (waited.signal.aborted) {
          throw busy(
            `No ad-hoc query slot came free in ${queueTimeoutMs} ms (${queue.pending} running); retry later`,
          );
        }
        throw e;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
