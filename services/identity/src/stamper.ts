import type { Logger, Topics } from '@cdp/core';
import type { Bus, MessageBatch, ProduceRecord, Subscription } from '@cdp/bus';
import { randomUUID } from 'node:crypto';
import {
  extractIdentifiers,
  stampEvent,
  type Identifier,
  type IdentityChangeMessage,
  type IdentityRules,
} from '@cdp/identity';
import type { StamperCache } from './cache.js';
import type { IdentityMetrics } from './metrics.js';

export interface StamperOptions {
  readonly bus: Bus;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly rules: IdentityRules;
  readonly cache: StamperCache;
  readonly metrics: IdentityMetrics;
  readonly group: string;
  /** Whether an id is used by a live, merged or deleted person, when the stamper can know (all-in-one). */
  readonly isTaken?: ((oneId: string) => boolean) | undefined;
}

export interface Stamper {
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface RawMessage {
  readonly messageId?: unknown;
  readonly receivedAt?: unknown;
  readonly type?: unknown;
  readonly event?: unknown;
  readonly enriched?: { readonly timestamp?: unknown } | undefined;
}

/**
 * A stamper: consumes `cdp.events.raw` (any number of instances in one
 * group, partitions spread across them), gives every event the `one_id` its
 * cache knows for its highest-priority known identifier, or the deterministic
 * provisional id, and produces it to `cdp.events.resolved` for the loader.
 * Events that may change the graph (an identifier the cache does not know,
 * or identifiers of more than one person) also go to `cdp.identity.links`
 * for the resolver. It decides nothing itself.
 */
export function createStamper(opts: StamperOptions): Stamper {
  const { bus, topics, logger, rules, cache, metrics } = opts;
  let sub: Subscription | undefined;
  let changesSub: Subscription | undefined;
  const stampOptions = {
    rules,
    lookup: (i: Identifier) => cache.lookup(i),
    ...(opts.isTaken ? { isTaken: opts.isTaken } : cache.isTaken ? { isTaken: cache.isTaken } : {}),
  };

  const handle = async (batch: MessageBatch): Promise<void> => {
    const parsed: (RawMessage | undefined)[] = [];
    const all: Identifier[] = [];
    for (const m of batch.messages) {
      let raw: RawMessage | undefined;
      try {
        const v: unknown = JSON.parse(m.value.toString('utf8'));
        raw = v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
      } catch {
        raw = undefined;
      }
      if (raw !== undefined)
        for (const i of extractIdentifiers(raw, rules).identifiers) all.push(i);
      parsed.push(raw);
    }
    await cache.prefetch(all);

    const resolved: ProduceRecord[] = [];
    const links: ProduceRecord[] = [];
    batch.messages.forEach((m, idx) => {
      const raw = parsed[idx];
      if (raw === undefined) {
        // Not readable: passed on as it is, and the loader dead-letters it.
        metrics.badMessages.inc();
        resolved.push({ key: m.key, value: m.value, headers: m.headers });
        return;
      }
      const ts = raw.enriched?.timestamp;
      const at =
        typeof ts === 'number'
          ? ts
          : typeof raw.receivedAt === 'number'
            ? raw.receivedAt
            : m.timestamp;
      const messageId =
        typeof raw.messageId === 'string' ? raw.messageId : `${m.topic}:${m.partition}:${m.offset}`;
      const s = stampEvent({ ...raw, messageId, at }, stampOptions);
      metrics.stamped.inc({
        kind: s.oneId === '' ? 'none' : s.provisional ? 'provisional' : 'known',
      });
      // `{"oneId":"…",` + the rest: the message stays byte-for-byte otherwise.
      const value = Buffer.concat([
        Buffer.from(`{"oneId":${JSON.stringify(s.oneId)},`),
        m.value.subarray(1),
      ]);
      resolved.push({ key: m.key, value, headers: m.headers });
      if (s.link) {
        const link = s.uncertain
          ? { ...s.link, event: m.value.toString('utf8'), key: m.key }
          : s.link;
        links.push({ key: 'identity', value: JSON.stringify(link) });
      }
    });

    // Events first, links after: a corrected copy the resolver publishes for
    // a link must land after the event's first copy, never before it.
    await bus.produce(topics.eventsResolved, resolved);
    if (links.length > 0) await bus.produce(topics.identityLinks, links);
  };

  return {
    async start() {
      const invalidate = cache.invalidate;
      if (invalidate) {
        // Its own group: every stamper instance reads every change.
        changesSub = await bus.subscribe({
          topic: topics.identityChanges,
          group: `${opts.group}.cache.${randomUUID()}`,
          maxWaitMs: 20,
          handleBatch: async (b) => {
            for (const m of b.messages) {
              try {
                const c = JSON.parse(m.value.toString('utf8')) as Partial<IdentityChangeMessage>;
                if (Array.isArray(c.oneIds)) {
                  invalidate(c.oneIds);
                  metrics.changesRead.inc(c.oneIds.length);
                }
              } catch (err) {
                logger.warn({ err, offset: m.offset }, 'identity_bad_change_message');
              }
            }
          },
        });
      }
      sub = await bus.subscribe({
        topic: topics.eventsRaw,
        group: opts.group,
        maxBatchSize: 5000,
        maxWaitMs: 20,
        handleBatch: handle,
        onError: (err) => logger.warn({ err }, 'identity_stamper_retry'),
      });
    },
    async stop() {
      await sub?.close();
      await changesSub?.close();
      sub = undefined;
      changesSub = undefined;
    },
  };
}
