import { createHash } from 'node:crypto';
import type { Logger, Topics } from '@cdp/core';
import type { Bus, MessageBatch, Subscription } from '@cdp/bus';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { Counter, Histogram, type Registry } from 'prom-client';
import { createBatcher, type Batcher } from './batcher.js';
import { invalidRow, overrideRow, type InvalidRow, type OverrideRow } from './rows.js';

export interface LoaderOptions {
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly topics: Topics;
  readonly logger: Logger;
  /** Topic the events come from: the raw topic until identity resolution stamps them. */
  readonly eventsTopic?: string;
  /** Flush at most this long after the first pending row (default 1,000 ms: about one insert a second per table). */
  readonly flushIntervalMs?: number;
  /** Flush when this many rows are pending (default 20,000). */
  readonly maxRows?: number;
  readonly registry?: Registry;
  /** Prefix of the consumer group names (the topic prefix, so runs sharing a broker stay apart). Default `cdp.`. */
  readonly groupPrefix?: string;
}

export interface Loader {
  start(): Promise<void>;
  /** Stops consuming, flushes pending rows, commits. */
  stop(): Promise<void>;
}

/** Consumer groups of the loader, under a prefix. */
export function loaderGroups(prefix = 'cdp.'): { events: string; invalid: string; merges: string } {
  return {
    events: `${prefix}loader.events`,
    invalid: `${prefix}loader.invalid`,
    merges: `${prefix}loader.merges`,
  };
}

/** A token that is the same when the same bus messages are inserted again. */
export function dedupToken(table: string, parts: readonly string[]): string {
  return createHash('sha256')
    .update(table)
    .update([...parts].sort().join(','))
    .digest('hex');
}

const partOf = (b: MessageBatch): string =>
  `${b.topic}:${b.partition}:${b.messages[0]?.offset ?? ''}-${b.messages[b.messages.length - 1]?.offset ?? ''}`;

/**
 * The loader: consumes the events and dead-letter topics and writes
 * ClickHouse in batches, idempotently (insert dedup tokens from the consumed
 * offsets, and `events` collapses repeated `message_id`s). A message that
 * cannot be read is written to `events_invalid` rather than blocking.
 */
export function createLoader(opts: LoaderOptions): Loader {
  const { warehouse, logger } = opts;
  const maxWaitMs = opts.flushIntervalMs ?? 1000;
  const maxRows = opts.maxRows ?? 20_000;
  const registers = opts.registry ? [opts.registry] : [];
  const rowsTotal = new Counter({
    name: 'cdp_loader_rows_total',
    help: 'Rows written, by table',
    labelNames: ['table'],
    registers,
  });
  const flushSeconds = new Histogram({
    name: 'cdp_loader_flush_seconds',
    help: 'Time of one warehouse insert, by table',
    labelNames: ['table'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers,
  });

  const writer =
    <R>(table: string, insert: (rows: R[], token: string) => Promise<void>) =>
    async (rows: R[], parts: string[]): Promise<void> => {
      const end = flushSeconds.startTimer({ table });
      try {
        await insert(rows, dedupToken(table, parts));
      } catch (err) {
        logger.warn({ err, table, rows: rows.length }, 'loader_insert_failed');
        throw err;
      } finally {
        end();
      }
      rowsTotal.inc({ table }, rows.length);
      logger.debug({ table, rows: rows.length }, 'loader_flushed');
    };

  // Event messages go to ClickHouse as they are: a materialized view parses
  // them (see migration 004), so this event loop only concatenates bytes.
  const events: Batcher<Buffer> = createBatcher({
    maxRows,
    maxWaitMs,
    write: writer<Buffer>(TABLES.events, (lines, dedupToken) =>
      warehouse.insertLines(TABLES.eventsIngest, lines, { dedupToken }),
    ),
  });
  const invalid: Batcher<InvalidRow> = createBatcher({
    maxRows,
    maxWaitMs,
    write: writer<InvalidRow>(TABLES.eventsInvalid, (rows, dedupToken) =>
      warehouse.insert(TABLES.eventsInvalid, rows, { dedupToken }),
    ),
  });
  // Merges from the identity resolver become `person_overrides` rows.
  const overrides: Batcher<OverrideRow> = createBatcher({
    maxRows,
    maxWaitMs: Math.min(maxWaitMs, 250),
    write: writer<OverrideRow>(TABLES.personOverrides, (rows, dedupToken) =>
      warehouse.insert(TABLES.personOverrides, rows, { dedupToken }),
    ),
  });
  const subs: Subscription[] = [];
  const groups = loaderGroups(opts.groupPrefix);

  const badMessage = (
    b: MessageBatch,
    value: Buffer,
    offset: string,
    err: unknown,
  ): InvalidRow => ({
    id: `${b.topic}:${b.partition}:${offset}`,
    received_at: Date.now(),
    source_id: '',
    code: 'CDP_ERR_LOADER_BAD_MESSAGE',
    field: '',
    reason: `${b.topic} offset ${offset}: ${err instanceof Error ? err.message : String(err)}`,
    payload: value.toString('utf8').slice(0, 65536),
    ip: '',
  });

  const onError = (err: unknown, b: MessageBatch): void =>
    logger.warn(
      { err, topic: b.topic, partition: b.partition, messages: b.messages.length },
      'loader_batch_retry',
    );

  return {
    async start() {
      subs.push(
        await opts.bus.subscribe({
          topic: opts.eventsTopic ?? opts.topics.eventsRaw,
          group: groups.events,
          maxBatchSize: maxRows,
          onError,
          handleBatch: async (b) => {
            const lines: Buffer[] = [];
            const bad: InvalidRow[] = [];
            for (const m of b.messages) {
              // LineAsString splits on newlines: a message with a raw newline
              // (never one of ours: JSON escapes them) is dead-lettered whole.
              if (m.value.includes(0x0a))
                bad.push(
                  badMessage(b, m.value, m.offset, new Error('message contains a raw newline')),
                );
              else lines.push(m.value);
            }
            if (bad.length > 0)
              logger.error(
                { topic: b.topic, partition: b.partition, count: bad.length },
                'loader_bad_messages',
              );
            const part = partOf(b);
            const since = b.messages[0]?.timestamp;
            await Promise.all([events.add(lines, part, since), invalid.add(bad, part, since)]);
          },
        }),
      );
      subs.push(
        await opts.bus.subscribe({
          topic: opts.topics.eventsInvalid,
          group: groups.invalid,
          maxBatchSize: maxRows,
          onError,
          handleBatch: async (b) => {
            const rows: InvalidRow[] = [];
            for (const m of b.messages) {
              try {
                rows.push(invalidRow(m.value));
              } catch (err) {
                rows.push(badMessage(b, m.value, m.offset, err));
              }
            }
            await invalid.add(rows, partOf(b), b.messages[0]?.timestamp);
          },
        }),
      );
      subs.push(
        await opts.bus.subscribe({
          topic: opts.topics.identityMerges,
          group: groups.merges,
          maxBatchSize: maxRows,
          onError,
          handleBatch: async (b) => {
            const rows: OverrideRow[] = [];
            for (const m of b.messages) {
              const row = overrideRow(m.value);
              if (row) rows.push(row);
              else logger.error({ offset: m.offset, topic: b.topic }, 'loader_bad_merge_message');
            }
            await overrides.add(rows, partOf(b), b.messages[0]?.timestamp);
          },
        }),
      );
      logger.info(
        {
          eventsTopic: opts.eventsTopic ?? opts.topics.eventsRaw,
          flushIntervalMs: maxWaitMs,
          maxRows,
        },
        'loader_started',
      );
    },
    async stop() {
      // Closing a subscription waits for its in-flight handler, which waits
      // for a flush: flush first so that nothing waits for the timer.
      const closing = subs.splice(0).map((s) => s.close());
      await Promise.all([events.flush(), invalid.flush(), overrides.flush()]);
      await Promise.all(closing);
      await Promise.all([events.flush(), invalid.flush(), overrides.flush()]);
      logger.info('loader_stopped');
    },
  };
}
