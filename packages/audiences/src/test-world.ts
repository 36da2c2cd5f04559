/**
 * Test worlds for audiences on a real warehouse: people with events, tags
 * and identifiers stored as the platform stores them (events by one_id,
 * merged ids through person_overrides), and the same people as the plain
 * evaluator sees them. Left out of the build.
 */
import { randomUUID } from 'node:crypto';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import type { PersonData } from './semantics.js';

export interface WorldEvent {
  readonly type?: 'track' | 'identify' | 'page';
  readonly event?: string;
  /** Epoch ms. */
  readonly ms: number;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  /** Which of the person's ids the event was stamped with (0: the person's own; 1..: merged ids). */
  readonly stamp?: number;
  readonly messageId?: string;
}

export interface WorldPerson {
  readonly events: readonly WorldEvent[];
  readonly tags?: Record<string, string>;
  readonly identifierTypes?: readonly string[];
  /** The stored lists the person is on (`audience_lists`). */
  readonly lists?: readonly string[];
  /** Lists the person was on and was taken off (a row, then a deleted row of a later version). */
  readonly leftLists?: readonly string[];
  /** How many other one_ids were merged into this person (their events carry `stamp` 1..n). */
  readonly merged?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Stores the people under ids `${prefix}${key}`; returns what the evaluator sees, by person id. */
export async function storeWorld(
  wh: Warehouse,
  prefix: string,
  people: Readonly<Record<string, WorldPerson>>,
): Promise<Map<string, PersonData>> {
  const events: Record<string, unknown>[] = [];
  const tags: Record<string, unknown>[] = [];
  const identities: Record<string, unknown>[] = [];
  const overrides: Record<string, unknown>[] = [];
  const lists: Record<string, unknown>[] = [];
  const seen = new Map<string, PersonData>();
  for (const [key, p] of Object.entries(people)) {
    const id = `${prefix}${key}`;
    const stampOf = (n: number): string => (n === 0 ? id : `${id}~m${n}`);
    for (let m = 1; m <= (p.merged ?? 0); m++)
      overrides.push({ from_one_id: stampOf(m), into_one_id: id, version: 1, reason: 'test' });
    const evs = p.events.map((e) => ({
      ...e,
      messageId: e.messageId ?? randomUUID(),
      type: e.type ?? 'track',
    }));
    for (const e of evs)
      events.push({
        message_id: e.messageId,
        source_id: 'test',
        type: e.type,
        event: e.type === 'track' ? (e.event ?? '') : '',
        anonymous_id: `anon-${id}`,
        one_id: stampOf(Math.min(e.stamp ?? 0, p.merged ?? 0)),
        timestamp: iso(e.ms),
        received_at: iso(e.ms),
        properties: JSON.stringify(e.properties ?? {}),
        traits: JSON.stringify(e.traits ?? {}),
        context: '{}',
      });
    for (const [tag, value] of Object.entries(p.tags ?? {}))
      tags.push({ person_id: id, tag, value, computed_at: iso(0), version: 1 });
    (p.identifierTypes ?? []).forEach((t, i) =>
      identities.push({
        id_type: t,
        id_value: `${id}-${t}-${i}`,
        one_id: stampOf(i % ((p.merged ?? 0) + 1)),
        first_seen: iso(0),
        last_seen: iso(0),
        version: 1,
      }),
    );
    const listRow = (list: string, version: number, deleted: number): void =>
      void lists.push({
        list,
        person_id: id,
        score: 0,
        rank: 1,
        computed_at: iso(0),
        version,
        is_deleted: deleted,
      });
    for (const l of p.lists ?? []) listRow(l, 1, 0);
    for (const l of p.leftLists ?? []) {
      listRow(l, 1, 0);
      listRow(l, 2, 1);
    }
    seen.set(id, {
      events: evs.map((e) => ({
        type: e.type,
        event: e.type === 'track' ? (e.event ?? '') : '',
        ms: e.ms,
        messageId: e.messageId,
        properties: e.properties ?? {},
        traits: e.type === 'identify' ? (e.traits ?? {}) : undefined,
      })),
      tags: { ...(p.tags ?? {}) },
      identifierTypes: [...(p.identifierTypes ?? [])],
      lists: [...(p.lists ?? [])],
    });
  }
  if (events.length > 0) await wh.insert(TABLES.events, events);
  if (tags.length > 0) await wh.insert(TABLES.personTags, tags);
  if (identities.length > 0) await wh.insert(TABLES.identities, identities);
  if (overrides.length > 0) await wh.insert(TABLES.personOverrides, overrides);
  if (lists.length > 0) await wh.insert(TABLES.audienceLists, lists);
  return seen;
}
