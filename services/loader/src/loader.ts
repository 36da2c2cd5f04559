import { createHash } from 'node:crypto';
import { MAX_DEAD_LETTER_PAYLOAD, wellFormed, type Logger, type Topics } from '@cdp/core';
import {
  guardConsumer,
  type Bus,
  type ConsumerHealth,
  type MessageBatch,
  type PoisonRecord,
  type Subscription,
} from '@cdp/bus';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { Counter, Histogram, type Registry } from 'prom-client';
import { createBatcher, type Batcher } from './batcher.js';
import { deadLetterIdentifierHashes } from '@cdp/identity';
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
  /** Where the loader's consumers report how they fare (`/readyz`, `cdp_consumer_*`). */
  readonly health?: ConsumerHealth;
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
/** The stamp every event message starts with (the stamper's or ingest's). */
const STAMP = /^\{"oneId":"([^"\\]*)"/;

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

  const refusedTotal = new Counter({
    name: 'cdp_loader_rows_refused_total',
    help: 'Rows the warehouse refused one by one while the rest of their insert went in (dead-lettered or dropped), by table',
    labelNames: ['table'],
    registers,
  });

  const erasedTotal = new Counter({
    name: 'cdp_loader_erased_total',
    help: 'Events not loaded because their person was erased (GDPR delete) while they were in flight',
    registers,
  });
  /**
   * Leaves out the events of erased people (`identity_tombstones`): an event
   * stamped before a delete and loaded after it would bring the person's
   * data back under the retired id. One lookup per insert.
   */
  const withoutErased = async (lines: Buffer[]): Promise<Buffer[]> => {
    const of = lines.map((l) => STAMP.exec(l.subarray(0, 64).toString('latin1'))?.[1] ?? '');
    const ids = [...new Set(of.filter((id) => id !== ''))];
    if (ids.length === 0) return lines;
    const gone = new Set(
      (
        await warehouse.query<{ one_id: string }>(
          `SELECT one_id FROM ${TABLES.identityTombstones} WHERE one_id IN {ids:Array(String)}`,
          { ids },
        )
      ).map((r) => r.one_id),
    );
    if (gone.size === 0) return lines;
    const kept = lines.filter((_, i) => !gone.has(of[i] as string));
    erasedTotal.inc(lines.length - kept.length);
    logger.info({ erased: lines.length - kept.length }, 'loader_erased_in_flight');
    return kept;
  };

  /**
   * Inserts rows; when the warehouse refuses the insert while it answers a
   * ping, the rows are bisected until the one it refuses is found, which
   * `refused` deals with (dead letter), and the rest goes in: one bad row
   * never blocks a topic. When the ping fails too, the insert is retried
   * as a whole by the bus (the warehouse is down, not the row bad).
   */
  const writer =
    <R>(
      table: string,
      insert: (rows: R[], token: string) => Promise<void>,
      refused: (row: R, err: unknown) => Promise<void>,
    ) =>
    async (rows: R[], parts: string[]): Promise<void> => {
      const end = flushSeconds.startTimer({ table });
      const isolate = async (part: R[], token: string, err: unknown): Promise<void> => {
        await warehouse.ping().catch(() => {
          throw err;
        });
        if (part.length === 1) {
          refusedTotal.inc({ table });
          logger.error({ err, table }, 'loader_row_refused');
          await refused(part[0] as R, err);
          return;
        }
        const mid = Math.ceil(part.length / 2);
        for (const [half, t] of [
          [part.slice(0, mid), `${token}:a`],
          [part.slice(mid), `${token}:b`],
        ] as const) {
          try {
            await insert(half, t);
          } catch (e) {
            await isolate(half, t, e);
          }
        }
      };
      try {
        const token = dedupToken(table, parts);
        try {
          await insert(rows, token);
        } catch (err) {
          logger.warn({ err, table, rows: rows.length }, 'loader_insert_failed');
          await isolate(rows, token, err);
        }
      } finally {
        end();
      }
      rowsTotal.inc({ table }, rows.length);
      logger.debug({ table, rows: rows.length }, 'loader_flushed');
    };

  const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
  /** A row for `events_invalid` from a bus message or line the loader could not store. */
  const refusedRow = (id: string, value: Buffer, reason: string, code: string): InvalidRow => {
    const payload = wellFormed(value.toString('utf8').slice(0, MAX_DEAD_LETTER_PAYLOAD));
    return {
      id,
      received_at: Date.now(),
      source_id: '',
      code,
      field: '',
      reason: wellFormed(reason),
      payload,
      ip: '',
      identifier_hashes: deadLetterIdentifierHashes(payload),
    };
  };
  const insertInvalid = (rows: InvalidRow[], token?: string): Promise<void> =>
    warehouse.insert(TABLES.eventsInvalid, rows, token === undefined ? {} : { dedupToken: token });

  // Event messages go to ClickHouse as they are: a materialized view parses
  // them (see migration 004), so this event loop only concatenates bytes.
  const events: Batcher<Buffer> = createBatcher({
    maxRows,
    maxWaitMs,
    write: writer<Buffer>(
      TABLES.events,
      async (lines, dedupToken) => {
        const kept = await withoutErased(lines);
        if (kept.length > 0) await warehouse.insertLines(TABLES.eventsIngest, kept, { dedupToken });
      },
      (line, err) =>
        insertInvalid([
          refusedRow(
            createHash('sha256').update(line).digest('hex'),
            line,
            `The warehouse refused this event: ${reasonOf(err)}`,
            'CDP_ERR_LOADER_ROW_REFUSED',
          ),
        ]),
    ),
  });
  const invalid: Batcher<InvalidRow> = createBatcher({
    maxRows,
    maxWaitMs,
    write: writer<InvalidRow>(TABLES.eventsInvalid, insertInvalid, async (row, err) => {
      // Kept without its payload, the one part that can be refused.
      await insertInvalid([
        { ...row, payload: '', reason: `${row.reason} (payload refused: ${reasonOf(err)})` },
      ]).catch((e: unknown) => logger.error({ err: e, id: row.id }, 'loader_dead_letter_dropped'));
    }),
  });
  // Merges from the identity resolver become `person_overrides` rows.
  const overrides: Batcher<OverrideRow> = createBatcher({
    maxRows,
    maxWaitMs: Math.min(maxWaitMs, 250),
    write: writer<OverrideRow>(
      TABLES.personOverrides,
      (rows, dedupToken) => warehouse.insert(TABLES.personOverrides, rows, { dedupToken }),
      // The resolver writes person_overrides itself too; the log keeps this one.
      async (row) => logger.error({ row }, 'loader_override_dropped'),
    ),
  });
  const subs: Subscription[] = [];
  const groups = loaderGroups(opts.groupPrefix);

  const badMessage = (
    b: { readonly topic: string; readonly partition: number },
    value: Buffer,
    offset: string,
    err: unknown,
    code = 'CDP_ERR_LOADER_BAD_MESSAGE',
  ): InvalidRow =>
    refusedRow(
      `${b.topic}:${b.partition}:${offset}`,
      value,
      `${b.topic} offset ${offset}: ${reasonOf(err)}`,
      code,
    );

  const onError = (err: unknown, b: MessageBatch): void =>
    logger.warn(
      { err, topic: b.topic, partition: b.partition, messages: b.messages.length },
      'loader_batch_retry',
    );

  /**
   * A handler that cannot fail on one record for ever: the backstop behind
   * the per-row isolation of the inserts (a record the handler still
   * refuses goes to `events_invalid` as it is), and the consumer's health.
   */
  const guarded = (
    name: string,
    handleBatch: (b: MessageBatch) => Promise<void>,
  ): ((b: MessageBatch) => Promise<void>) =>
    guardConsumer({
      name,
      handleBatch,
      probe: () => warehouse.ping(),
      deadLetter: (records: readonly PoisonRecord[]) =>
        insertInvalid(
          records.map((r) =>
            badMessage(
              r.message,
              r.message.value,
              r.message.offset,
              r.reason,
              'CDP_ERR_LOADER_ROW_REFUSED',
            ),
          ),
        ),
      onPoison: (records) =>
        logger.error({ consumer: name, count: records.length }, 'loader_records_dead_lettered'),
      ...(opts.health ? { health: opts.health } : {}),
    });

  return {
    async start() {
      subs.push(
        await opts.bus.subscribe({
          topic: opts.eventsTopic ?? opts.topics.eventsRaw,
          group: groups.events,
          maxBatchSize: maxRows,
          onError,
          handleBatch: guarded('loader.events', async (b) => {
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
          }),
        }),
      );
      subs.push(
        await opts.bus.subscribe({
          topic: opts.topics.eventsInvalid,
          group: groups.invalid,
          maxBatchSize: maxRows,
          onError,
          handleBatch: guarded('loader.invalid', async (b) => {
            const rows: InvalidRow[] = [];
            for (const m of b.messages) {
              try {
                rows.push(invalidRow(m.value));
              } catch (err) {
                rows.push(badMessage(b, m.value, m.offset, err));
              }
            }
            await invalid.add(rows, partOf(b), b.messages[0]?.timestamp);
          }),
        }),
      );
      subs.push(
        await opts.bus.subscribe({
          topic: opts.topics.identityMerges,
          group: groups.merges,
          maxBatchSize: maxRows,
          onError,
          handleBatch: guarded('loader.merges', async (b) => {
            const rows: OverrideRow[] = [];
            for (const m of b.messages) {
              const row = overrideRow(m.value);
              if (row) rows.push(row);
              else logger.error({ offset: m.offset, topic: b.topic }, 'loader_bad_merge_message');
            }
            await overrides.add(rows, partOf(b), b.messages[0]?.timestamp);
          }),
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
