/**
 * Test builders for the tag engine on real parts (chDB, the embedded bus):
 * events inserted as the loader would store them, a clock the test sets,
 * and the tags read back the way the API reads them.
 */
import { randomUUID } from 'node:crypto';
import { createLogger, topics as topicNames, type Topics } from '@cdp/core';
import { createEmbeddedBus, type Bus, type BusMessage } from '@cdp/bus';
import type { TagDefinition } from '@cdp/tags';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { tempDir, waitFor, type TempDir } from '@cdp/testkit';
import { createTagEngineRunner, type TagEngineRunner } from './runner.js';
import type { EventSink, TrackCall } from './tier-events.js';

export const DAY = 86_400_000;
/** The tests' "now": 2025-06-01T00:00:00Z. */
export const NOW = Date.parse('2025-06-01T00:00:00Z');

export interface EventSpec {
  readonly person: string;
  /** Milliseconds before the kit's clock (`at(days)` gives days). */
  readonly ago: number;
  readonly event?: string;
  readonly type?: 'track' | 'page' | 'identify';
  readonly name?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly channel?: string;
  readonly utmSource?: string;
  readonly userId?: string;
  readonly messageId?: string;
  readonly sourceId?: string;
}

export const daysAgo = (d: number): number => d * DAY;

export interface TagKit {
  readonly warehouse: Warehouse;
  readonly bus: Bus;
  readonly topics: Topics;
  readonly runner: TagEngineRunner;
  /** Tier events the engine emitted. */
  readonly emitted: TrackCall[];
  clock: number;
  /** Inserts events as stored rows (`events`, one_id = person). */
  insert(events: readonly EventSpec[]): Promise<void>;
  purchase(
    person: string,
    ago: number,
    revenue: number,
    props?: Record<string, unknown>,
  ): EventSpec;
  /** Every person's current tags (hidden `_` keys dropped). */
  tags(): Promise<Map<string, Record<string, string>>>;
  /** Replaces every stored definition with these (built-ins included only if listed). */
  define(defs: readonly TagDefinition[]): Promise<void>;
  /** Empties every table the tests write. */
  reset(): Promise<void>;
  /** Messages on cdp.profiles.tags, once there are at least `atLeast`. */
  published(atLeast: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const logger = createLogger({ service: 'tag-engine-test', level: 'silent' });

export async function createTagKit(): Promise<TagKit> {
  const dir: TempDir = await tempDir('cdp-tags');
  const warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
  await warehouse.migrate();
  const bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
  const topics = topicNames('cdp.');
  const emitted: TrackCall[] = [];
  const sink: EventSink = {
    track: async (calls) => {
      emitted.push(...calls);
    },
  };
  const kit: TagKit = {
    warehouse,
    bus,
    topics,
    emitted,
    clock: NOW,
    runner: undefined as unknown as TagEngineRunner,
    async insert(events) {
      await warehouse.insert(
        TABLES.events,
        events.map((e) => {
          const ts = new Date(kit.clock - e.ago).toISOString();
          return {
            message_id: e.messageId ?? randomUUID(),
            source_id: e.sourceId ?? 'src_test',
            type: e.type ?? 'track',
            event: e.type === 'page' || e.type === 'identify' ? '' : (e.event ?? 'Page Viewed'),
            name: e.name ?? '',
            anonymous_id: `anon-${e.person}`,
            user_id: e.userId ?? '',
            one_id: e.person,
            group_id: '',
            previous_id: '',
            timestamp: ts,
            received_at: ts,
            clock_skew_flag: '',
            channel: e.channel ?? 'Direct',
            utm_source: e.utmSource ?? '',
            utm_medium: '',
            utm_campaign: '',
            utm_term: '',
            utm_content: '',
            page_url: '',
            page_path: '',
            referrer: '',
            ip: '',
            user_agent: '',
            is_bot: false,
            properties: JSON.stringify(e.properties ?? {}),
            traits: JSON.stringify(e.traits ?? {}),
            context: '{}',
          };
        }),
      );
    },
    purchase(person, ago, revenue, props = {}) {
      return { person, ago, event: 'Order Completed', properties: { revenue, ...props } };
    },
    async tags() {
      const rows = await warehouse.query<{ person_id: string; tags: Record<string, string> }>(
        `SELECT person_id, tags FROM ${TABLES.personTagState} FINAL WHERE is_deleted = 0`,
      );
      return new Map(
        rows.map((r) => [
          r.person_id,
          Object.fromEntries(Object.entries(r.tags).filter(([k]) => !k.startsWith('_'))),
        ]),
      );
    },
    async define(defs) {
      await warehouse.command(`TRUNCATE TABLE ${TABLES.tagDefinitions}`);
      for (const d of defs) await kit.runner.definitions.save(d, 'upsert');
    },
    async reset() {
      for (const t of [
        TABLES.events,
        TABLES.personOverrides,
        TABLES.identities,
        TABLES.identityAudit,
        TABLES.personFacts,
        TABLES.personTagState,
        TABLES.personRankInputs,
        TABLES.personTags,
        TABLES.tierHistory,
        TABLES.tagRuns,
        TABLES.tagDefinitions,
      ])
        await warehouse.command(`TRUNCATE TABLE ${t}`);
      emitted.length = 0;
      kit.clock = NOW;
    },
    async published(atLeast) {
      const out: Record<string, unknown>[] = [];
      const sub = await bus.subscribe({
        topic: topics.profilesTags,
        group: `test-${randomUUID()}`,
        handleBatch: async (b: { messages: readonly BusMessage[] }) => {
          for (const m of b.messages)
            out.push(JSON.parse(m.value.toString('utf8')) as Record<string, unknown>);
        },
      });
      try {
        await waitFor(() => {
          if (out.length < atLeast) throw new Error(`${out.length} of ${atLeast} messages`);
        });
      } finally {
        await sub.close();
      }
      return out;
    },
    async close() {
      await kit.runner.stop();
      await bus.close();
      await warehouse.close();
      await dir.remove();
    },
  };
  (kit as { runner: TagEngineRunner }).runner = createTagEngineRunner({
    warehouse,
    bus,
    topics,
    logger,
    events: sink,
    intervalMs: 60_000,
    partitions: 2,
    loadMarginMs: 0,
    schedule: false,
    now: () => kit.clock,
  });
  await kit.runner.start();
  return kit;
}
