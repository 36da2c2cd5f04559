import { CdpError, type Logger, type Topics } from '@cdp/core';
import type { Bus, ConsumerHealth, MessageBatch, ProduceRecord, Subscription } from '@cdp/bus';
import {
  createIdentityGraph,
  importIdentityGraph,
  type IdentityGraph,
  type IdentityRules,
  type IdentityChangeMessage,
  type LinkMessage,
  type OverrideMessage,
} from '@cdp/identity';
import type { Warehouse } from '@cdp/warehouse';
import type { IdentityMetrics } from './metrics.js';
import { guardIdentityConsumer } from './poison.js';
import {
  auditRow,
  emptyWrites,
  graphMark,
  identityRow,
  loadSnapshot,
  readProgress,
  VERSIONS_PER_MESSAGE,
  writeGraph,
  writeProgress,
  type GraphWrites,
} from './store.js';

export interface ResolverOptions {
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly rules: IdentityRules;
  readonly metrics: IdentityMetrics;
  readonly group: string;
  /**
   * Rebuild only: start from an empty graph, and neither publish nor persist
   * (to check that replaying the links topic from the start gives the same
   * graph, or to inspect history). Default false.
   */
  readonly replayOnly?: boolean;
  /** Where corrected copies of events go: the topic the loader reads. Default `eventsResolved`. */
  readonly restampTopic?: string;
  /** Where the resolver reports how it fares (`/readyz`, `cdp_consumer_*`). */
  readonly health?: ConsumerHealth | undefined;
}

export interface Resolver {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The graph as this resolver knows it (the all-in-one stamper reads it). */
  graph(): IdentityGraph;
}

/** People per `cdp.identity.changes` message. */
const CHANGES_PER_MESSAGE = 5000;

/**
 * The one ordered resolver: consumes `cdp.identity.links` (one partition, so
 * one active member of its group decides everything, in one order), applies
 * each link, split and delete to the graph, publishes the resulting
 * `person_overrides` rows on `cdp.identity.merges` and persists the graph
 * (`identities`, blocks, tombstones, `identity_audit`) before the offsets are
 * committed. A replayed batch changes nothing: what was persisted is loaded
 * back and the same links find their identifiers already linked.
 */
export function createResolver(opts: ResolverOptions): Resolver {
  const { bus, warehouse, topics, logger, rules, metrics } = opts;
  let graph: IdentityGraph = createIdentityGraph(rules);
  let sub: Subscription | undefined;
  /** Offset this resolver expects next; another one was active if it differs. */
  let expectedNext: bigint | undefined;
  /** Events of the batch in hand whose stamp the resolver corrects. */
  let restamped: ProduceRecord[] = [];

  /** People of the batch in hand that a merge, split or delete changed. */
  let changed = new Set<string>();
  const publishChanges = async (oneIds: readonly string[]): Promise<void> => {
    const records: ProduceRecord[] = [];
    for (let i = 0; i < oneIds.length; i += CHANGES_PER_MESSAGE)
      records.push({
        key: null,
        value: JSON.stringify({
          schemaVersion: 1,
          oneIds: oneIds.slice(i, i + CHANGES_PER_MESSAGE),
        } satisfies IdentityChangeMessage),
      });
    await bus.produce(topics.identityChanges, records);
  };

  /** Fingerprint of the persisted graph when this graph was loaded from it. */
  let loadedMark: string | undefined;

  /** Links below this offset are in the stored graph already (a replay skips them). */
  let storedNext: number | undefined;

  const reload = async (why: string): Promise<void> => {
    const started = Date.now();
    await finishStoredBatch();
    // Taken before the read: a write during it only causes one more reload.
    loadedMark = await graphMark(warehouse);
    const snapshot = await loadSnapshot(warehouse);
    graph = importIdentityGraph(snapshot, rules);
    const stats = graph.stats();
    metrics.persons.set(stats.persons);
    metrics.identifiers.set(stats.identifiers);
    logger.info(
      {
        why,
        persons: stats.persons,
        identifiers: stats.identifiers,
        storedNext,
        ms: Date.now() - started,
      },
      'identity_graph_loaded',
    );
  };

  /**
   * A batch whose rows stopped half-way (a crash, a failed insert) is written
   * again from its journal before the graph is read: a graph loaded from half
   * a batch would decide its links differently (a split refused because its
   * identifiers moved already, a delete without its tombstone).
   */
  const finishStoredBatch = async (): Promise<void> => {
    const progress = await readProgress(warehouse, topics.identityLinks);
    if (progress === undefined) {
      storedNext = undefined;
      return;
    }
    if (progress.state === 'done') {
      storedNext = progress.nextOffset;
      return;
    }
    const j = progress.journal;
    logger.warn({ firstOffset: j.firstOffset, lastOffset: j.lastOffset }, 'identity_batch_redone');
    try {
      await writeGraph(warehouse, j.writes, j);
    } catch (err) {
      // The warehouse is down or busy: the load fails and is tried again
      // (the journal stays `writing`), never given up for a passing outage.
      if (err instanceof CdpError && err.retryable) throw err;
      // The warehouse refuses a row of it (a record to dead-letter): the
      // batch is decided again, and the consumer's guard isolates the record.
      logger.error({ err, firstOffset: j.firstOffset }, 'identity_batch_redo_failed');
      await writeProgress(warehouse, topics.identityLinks, j, undefined, 'abandoned');
      storedNext = j.firstOffset;
      return;
    }
    if (j.changed.length > 0) await publishChanges(j.changed);
    await writeProgress(warehouse, topics.identityLinks, j);
    storedNext = j.lastOffset + 1;
  };

  /** Set when a batch failed half-way: the graph holds what was not persisted. */
  let dirty = false;

  const handle = async (batch: MessageBatch): Promise<void> => {
    try {
      await handleOnce(batch);
    } catch (err) {
      // The batch comes again; it must meet the graph as persisted, or the
      // rows it failed to write would never be written.
      dirty = true;
      throw err;
    }
  };

  const handleOnce = async (batch: MessageBatch): Promise<void> => {
    const first = batch.messages[0];
    if (!first) return;
    if (opts.replayOnly !== true) {
      if (dirty) {
        await reload('batch_failed');
        dirty = false;
      } else if (expectedNext !== undefined && BigInt(first.offset) !== expectedNext) {
        // Offsets moved: another resolver (before a rebalance) decided in
        // between, and its decisions are in the warehouse.
        await reload('offsets_moved');
      } else if (expectedNext === undefined && (await graphMark(warehouse)) !== loadedMark) {
        // The first batch this resolver gets: a standby may take over long
        // after it loaded; reload only if the persisted graph changed since.
        await reload('first_batch');
      }
    }
    const writes: GraphWrites = emptyWrites();
    const overrides = new Map<string, OverrideMessage>();
    restamped = [];
    changed = new Set();

    // A replay (offsets not committed after the graph was stored, a standby
    // that read from an older offset) skips what the stored graph holds.
    const fresh =
      opts.replayOnly === true || storedNext === undefined
        ? batch.messages
        : batch.messages.filter((m) => Number(m.offset) >= (storedNext as number));
    const last = batch.messages[batch.messages.length - 1];
    if (fresh.length === 0) {
      if (last) expectedNext = BigInt(last.offset) + 1n;
      return;
    }

    for (const m of fresh) {
      let link: LinkMessage;
      try {
        link = JSON.parse(m.value.toString('utf8')) as LinkMessage;
      } catch (err) {
        logger.error({ err, offset: m.offset }, 'identity_bad_link_message');
        metrics.badMessages.inc();
        continue;
      }
      const version = Number(m.offset) * VERSIONS_PER_MESSAGE + 1;
      try {
        apply(link, version, writes, overrides);
      } catch (err) {
        // One malformed link must not stop the single ordered resolver.
        logger.error({ err, offset: m.offset }, 'identity_link_failed');
        metrics.badMessages.inc();
      }
    }

    if (opts.replayOnly === true) return;
    // Publish before persisting: if the process dies in between, the batch
    // is handled again from the persisted state and publishes the same rows.
    if (restamped.length > 0)
      await bus.produce(opts.restampTopic ?? topics.eventsResolved, restamped);
    if (overrides.size > 0) {
      await bus.produce(
        topics.identityMerges,
        [...overrides.values()].map((o) => ({ key: o.from, value: JSON.stringify(o) })),
      );
    }
    // person_overrides is part of the graph's durable form: written here as
    // well as by the loader from the merges topic (the same versioned rows),
    // so a reload never misses a merge the loader has not written yet.
    for (const o of overrides.values()) {
      writes.overrides.push({
        from_one_id: o.from,
        into_one_id: o.into,
        reason: o.reason,
        version: o.version,
        is_deleted: o.deleted === true ? 1 : 0,
      });
    }
    // The batch's journal first (one insert), then its rows, then `done`: a
    // resolver that loads the graph after a stop half-way writes the rest.
    const span = {
      firstOffset: Number((fresh[0] as { offset: string }).offset),
      lastOffset: Number((fresh[fresh.length - 1] as { offset: string }).offset),
    };
    await writeProgress(warehouse, topics.identityLinks, span, {
      ...span,
      writes,
      changed: [...changed],
    });
    await writeGraph(warehouse, writes);
    // After the graph is stored: a stamper that drops its cached answers for
    // these people and asks the warehouse again gets the new ones.
    if (changed.size > 0) await publishChanges([...changed]);
    await writeProgress(warehouse, topics.identityLinks, span);
    storedNext = span.lastOffset + 1;
    if (last) expectedNext = BigInt(last.offset) + 1n;
    metrics.persons.set(graph.stats().persons);
    metrics.identifiers.set(graph.stats().identifiers);
  };

  /** Rows of a person's identifiers at `version` (after a merge or a split moved them). */
  const personRows = (oneId: string, version: number, writes: GraphWrites): void => {
    const p = graph.person(oneId);
    if (!p) return;
    for (const i of p.identifiers) {
      writes.identities.push(
        identityRow(
          {
            one_id: p.oneId,
            id_type: i.type,
            id_value: i.value,
            first_seen: i.firstSeen,
            last_seen: i.lastSeen,
          },
          version,
        ),
      );
    }
  };

  /** Overrides of every id merged into `into` (chains collapse to the live person). */
  const pointAll = (
    into: string,
    reason: string,
    version: number,
    out: Map<string, OverrideMessage>,
  ): void => {
    const p = graph.person(into);
    if (!p) return;
    for (const from of p.mergedFrom) {
      const prev = out.get(from);
      out.set(from, { from, into, reason: prev?.into === into ? prev.reason : reason, version });
    }
  };

  function apply(
    link: LinkMessage,
    version: number,
    writes: GraphWrites,
    overrides: Map<string, OverrideMessage>,
  ): void {
    switch (link.op) {
      case 'resolve': {
        const out = graph.resolve({
          identifiers: link.identifiers,
          previousId: link.previousId,
          at: link.at,
          kind: link.kind,
          messageId: link.messageId,
          stamped: link.stamped,
          junk: link.junk,
        });
        metrics.links.inc(link.identifiers.length);
        for (const [reason, n] of Object.entries(out.junk)) metrics.junk.inc({ reason }, n ?? 0);
        for (const r of out.refusals) metrics.refusals.inc({ reason: r.reason });
        if (out.restamp && out.oneId !== undefined) {
          metrics.restamps.inc();
          if (link.event !== undefined && link.event.startsWith('{')) {
            // The same message again with the resolver's answer: the loader
            // writes it over the first copy (same sort key, later insert).
            restamped.push({
              key: link.key ?? null,
              value: `{"oneId":${JSON.stringify(out.oneId)},${withoutOneId(link.event).slice(1)}`,
            });
          }
        }
        if (out.merges.length > 0) {
          for (const mg of out.merges) metrics.merges.inc({ reason: mg.reason });
          const into = out.oneId;
          if (into !== undefined) {
            changed.add(into);
            for (const mg of out.merges) changed.add(mg.from);
            personRows(into, version, writes);
            for (const mg of out.merges) {
              overrides.set(mg.from, { from: mg.from, into: mg.into, reason: mg.reason, version });
            }
            pointAll(into, 'chain', version, overrides);
          }
        } else if (out.oneId !== undefined) {
          for (const i of out.added) {
            writes.identities.push(
              identityRow(
                {
                  one_id: out.oneId,
                  id_type: i.type,
                  id_value: i.value,
                  first_seen: link.at,
                  last_seen: link.at,
                },
                version,
              ),
            );
          }
        }
        for (const a of out.audit) writes.audit.push(auditRow(a, link.messageId, version));
        return;
      }
      case 'split': {
        const res = graph.split(link.oneId, link.identifiers, link.at);
        if (!res.ok) {
          writes.audit.push(
            auditRow(
              { at: link.at, kind: 'split', oneId: link.oneId, reason: res.reason as never },
              link.requestId,
              version,
            ),
          );
          logger.info({ oneId: link.oneId, reason: res.reason }, 'identity_split_refused');
          return;
        }
        personRows(res.oneId, version, writes);
        changed.add(res.from).add(res.oneId);
        const [a, b] = res.from < res.oneId ? [res.from, res.oneId] : [res.oneId, res.from];
        writes.blocks.push({ one_id: a, other_one_id: b, version, is_deleted: 0 });
        for (const e of res.audit) writes.audit.push(auditRow(e, link.requestId, version));
        logger.info({ from: res.from, into: res.oneId, moved: res.moved.length }, 'identity_split');
        return;
      }
      case 'delete': {
        const res = graph.delete(link.oneId, link.at);
        if (!res.ok) {
          writes.audit.push(
            auditRow(
              { at: link.at, kind: 'delete', oneId: link.oneId, reason: res.reason as never },
              link.requestId,
              version,
            ),
          );
          logger.info({ oneId: link.oneId, reason: res.reason }, 'identity_delete_refused');
          return;
        }
        for (const i of res.removed) {
          writes.identities.push(
            identityRow(
              {
                one_id: res.oneId,
                id_type: i.type,
                id_value: i.value,
                first_seen: link.at,
                last_seen: link.at,
              },
              version,
              true,
            ),
          );
        }
        changed.add(res.oneId);
        for (const id of res.retiredIds) {
          changed.add(id);
          writes.tombstones.push({
            one_id: id,
            deleted_at: new Date(link.at).toISOString(),
            version,
          });
          if (id !== res.oneId)
            overrides.set(id, {
              from: id,
              into: res.oneId,
              reason: 'gdpr_delete',
              version,
              deleted: true,
            });
        }
        for (const e of res.audit) writes.audit.push(auditRow(e, link.requestId, version));
        logger.info({ oneId: res.oneId, retired: res.retiredIds.length }, 'identity_deleted');
        return;
      }
      default: {
        const never: never = link;
        logger.error({ link: never }, 'identity_unknown_link_op');
      }
    }
  }

  return {
    async start() {
      if (opts.replayOnly !== true) await reload('start');
      sub = await bus.subscribe({
        topic: topics.identityLinks,
        group: opts.group,
        // Larger, fewer batches: every batch is one insert per graph table,
        // and an insert has a fixed cost; events do not wait for this (they
        // carry their stamp), only merges and audit rows do.
        maxBatchSize: 20_000,
        maxWaitMs: 250,
        // A link it can never store (the warehouse refuses a row) is
        // dead-lettered after a few tries instead of blocking every later link.
        handleBatch: guardIdentityConsumer({
          name: 'identity.resolver',
          bus,
          warehouse,
          topics,
          logger,
          health: opts.health,
          handleBatch: handle,
        }),
        onError: (err) => logger.warn({ err }, 'identity_resolver_retry'),
      });
    },
    async stop() {
      await sub?.close();
      sub = undefined;
    },
    graph: () => graph,
  };
}

/** The message without a leading `"oneId":"…",` (a stamp put there by ingest). */
export function withoutOneId(message: string): string {
  const m = /^\{"oneId":"(?:[^"\\]|\\.)*",/.exec(message);
  return m ? `{${message.slice(m[0].length)}` : message;
}
