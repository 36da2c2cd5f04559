import { identifierHash, type Identifier } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import type { EventMoveRule } from './event-moves.js';
import { eventMoveSql } from './event-moves.js';

/** One row of `identities`: an identifier of a person, as stored (email and phone hashed). */
export interface IdentityRecord {
  readonly type: string;
  readonly value: string;
  readonly oneId: string;
  /** ISO-8601. */
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** One row of `identity_audit`. Empty strings where a column does not apply. */
export interface AuditRecord {
  /** ISO-8601. */
  readonly at: string;
  readonly kind: string;
  readonly oneId: string;
  readonly otherId: string;
  readonly identifierType: string;
  readonly identifierHash: string;
  readonly reason: string;
  readonly requestId: string;
}

/** An event as a person's answer lists it. `properties` is the stored JSON text. */
export interface EventSummaryRecord {
  readonly messageId: string;
  readonly type: string;
  readonly event: string;
  /** ISO-8601. */
  readonly timestamp: string;
  readonly channel: string;
  readonly properties: string;
}

/** Count and time span of a person's events; the times are undefined without events. */
export interface EventStats {
  readonly count: number;
  readonly firstSeen: string | undefined;
  readonly lastSeen: string | undefined;
}

/**
 * Where an export page of events ends: the next page starts after it, in
 * `timestamp` then key order (`events FINAL` has one row per key).
 */
export interface EventCursor {
  /** ISO-8601 `timestamp` of the last event of the page. */
  readonly timestamp: string;
  readonly messageId: string;
  readonly sourceId: string;
  readonly anonymousId: string;
  readonly userId: string;
}

/**
 * The Person API's reads and writes of the warehouse, by role. A person is
 * a set of ids (`ids`: the canonical id and every id merged into it); its
 * events are the rows of `events` stamped with one of them. That is exactly
 * what `events_by_person WHERE person_id = canonical` returns (the view maps
 * each `one_id` through `person_overrides`, whose rows point at the canonical
 * id), but read without the view's join over every event.
 */
export interface PersonStore {
  /** The live person an id resolves to through `person_overrides` (the id itself when not merged). */
  canonicalOf(oneId: string): Promise<string>;
  /** Ids merged into `canonical`, sorted. */
  mergedInto(canonical: string): Promise<string[]>;
  /** The `one_id` an identifier (stored form) belongs to, if any. */
  personOf(type: string, value: string): Promise<string | undefined>;
  /** Identifiers of the ids, first seen first. */
  identifiers(ids: readonly string[]): Promise<IdentityRecord[]>;
  eventStats(ids: readonly string[]): Promise<EventStats>;
  /** `traits` of the identify events, oldest first. */
  identifyTraits(ids: readonly string[]): Promise<string[]>;
  /** The latest `limit` events, newest first. */
  recentEvents(ids: readonly string[], limit: number): Promise<EventSummaryRecord[]>;
  /** A page of events with every column, oldest first, after `cursor`. */
  eventPage(
    ids: readonly string[],
    after: EventCursor | undefined,
    limit: number,
  ): Promise<Record<string, unknown>[]>;
  /** Audit rows that name one of the ids (as `one_id` or `other_id`), oldest first; the latest `limit` when given. */
  audit(ids: readonly string[], limit?: number): Promise<AuditRecord[]>;
  /** Audit rows of one request (the resolver's answer to a command), written at or after `since` (ISO-8601). */
  auditOfRequest(requestId: string, kind: string, since: string): Promise<AuditRecord[]>;
  /** Re-stamps the events the rule picks with `into`; resolves with how many (deduplicated) it moved. */
  moveEvents(ids: readonly string[], rule: EventMoveRule, into: string): Promise<number>;
  /**
   * Erases a deleted person's rows: events, identities, overrides from or
   * into the ids, blocks, and audit rows except `delete` ones. Resolves with
   * how many (deduplicated) events it erased.
   */
  erase(ids: readonly string[]): Promise<number>;
  /** Dead letters (`events_invalid`) holding one of these identifier hashes, oldest first. */
  deadLetters(hashes: readonly string[]): Promise<Record<string, unknown>[]>;
}

/** The hashes dead letters and the audit trail know identifiers by. */
export function hashesOf(identifiers: readonly { type: string; value: string }[]): string[] {
  return [...new Set(identifiers.map((i) => identifierHash(i as Identifier)))].sort();
}

// Every read answers dates as ISO-8601 (UTC), scoped to the query.
const ISO = "SETTINGS date_time_output_format = 'iso'";

// Mutations return once applied, so the answer's counts hold when it is sent.
const SYNC = 'SETTINGS mutations_sync = 2';

const {
  events: EVENTS,
  identities: IDENTITIES,
  personOverrides: OVERRIDES,
  identityAudit: AUDIT,
  identityBlocks: BLOCKS,
  eventsInvalid: INVALID,
} = TABLES;

/**
 * The person's rows of `events FINAL` (a row's latest version counts: a
 * re-stamped event belongs to its new person only), with FINAL held to the
 * keys of the rows stamped with one of the ids: the sorting-key condition
 * lets ClickHouse merge only those ranges, where `events FINAL WHERE one_id
 * IN ...` merges every part of the table (measured over 10,000,000 events:
 * 70 ms against 0.9 s a query).
 */
const PERSON_ROWS = `${EVENTS} FINAL
  WHERE (source_id, anonymous_id, user_id, message_id) IN (
    SELECT source_id, anonymous_id, user_id, message_id FROM ${EVENTS} WHERE one_id IN {ids:Array(String)})
  AND one_id IN {ids:Array(String)}`;

/** Tables of what was derived about a person (tags, audience memberships), by `person_id`. */
const TAG_TABLES = [
  TABLES.personFacts,
  TABLES.personTagState,
  TABLES.personRankInputs,
  TABLES.personTags,
  TABLES.tierHistory,
  TABLES.audienceSnapshots,
  TABLES.audienceCandidates,
  TABLES.exportPending,
  TABLES.audienceMembers,
  TABLES.audienceLists,
  TABLES.lookalikeFeatures,
];

/**
 * ClickHouse removes the parts a delete's mutations replaced in the
 * background once they are `old_parts_lifetime` (30 s) old, but the
 * housekeeping of a table nothing is written to backs off for minutes (seen:
 * over 4 min on a loaded machine, `removal_state` "Cleanup thread hasn't
 * seen this part yet"). `SYSTEM START MERGES` wakes a table's background
 * work at once (merges are never stopped here): done a few times after
 * the parts are old enough, so that the erased data leaves the disk in
 * about half a minute.
 */
const HOUSEKEEPING_TABLES = [EVENTS, INVALID, IDENTITIES, TABLES.identityResolverProgress];
const WAKE_AFTER_MS = [35_000, 70_000, 140_000];

/**
 * The person's identifier keys: those whose latest row is one of the ids (an
 * identifier that a split moved to someone else is theirs now). As SQL, so
 * that a mutation names no identifier in clear (its text is kept on disk).
 */
const OWN_KEYS = `SELECT id_type, id_value FROM ${TABLES.identities}
  WHERE (id_type, id_value) IN (SELECT id_type, id_value FROM ${TABLES.identities} WHERE one_id IN {ids:Array(String)})
  GROUP BY id_type, id_value HAVING argMax(one_id, version) IN {ids:Array(String)}`;

const AUDIT_COLUMNS = `at, kind, one_id AS oneId, other_id AS otherId,
  identifier_type AS identifierType, identifier_hash AS identifierHash, reason,
  request_id AS requestId`;

/** {@link PersonStore} over the warehouse. */
export function createWarehousePersonStore(warehouse: Warehouse): PersonStore {
  const wakeHousekeeping = (): void => {
    for (const ms of WAKE_AFTER_MS)
      setTimeout(() => {
        for (const t of HOUSEKEEPING_TABLES)
          // A closed warehouse (the process stopping) only skips the nudge.
          warehouse.command(`SYSTEM START MERGES ${t}`).catch(() => undefined);
      }, ms).unref();
  };
  const count = async (sql: string, params: Record<string, unknown>): Promise<number> => {
    const [row] = await warehouse.query<{ n: number | string }>(sql, params);
    return Number(row?.n ?? 0);
  };
  return {
    async canonicalOf(oneId) {
      const [row] = await warehouse.query<{ target: string }>(
        `SELECT into_one_id AS target FROM ${OVERRIDES} FINAL WHERE from_one_id = {id:String} LIMIT 1`,
        { id: oneId },
      );
      return row === undefined || row.target === '' ? oneId : row.target;
    },
    async mergedInto(canonical) {
      const rows = await warehouse.query<{ id: string }>(
        `SELECT from_one_id AS id FROM ${OVERRIDES} FINAL
         WHERE into_one_id = {id:String} AND from_one_id != {id:String} ORDER BY id`,
        { id: canonical },
      );
      return rows.map((r) => r.id);
    },
    async personOf(type, value) {
      const [row] = await warehouse.query<{ oneId: string }>(
        `SELECT one_id AS oneId FROM ${IDENTITIES} FINAL
         WHERE id_type = {t:String} AND id_value = {v:String} LIMIT 1`,
        { t: type, v: value },
      );
      return row?.oneId;
    },
    identifiers(ids) {
      return warehouse.query<IdentityRecord>(
        `SELECT id_type AS type, id_value AS value, one_id AS oneId,
                first_seen AS firstSeen, last_seen AS lastSeen
         FROM ${IDENTITIES} FINAL WHERE one_id IN {ids:Array(String)}
         ORDER BY first_seen, id_type, id_value ${ISO}`,
        { ids },
      );
    },
    async eventStats(ids) {
      const [row] = await warehouse.query<{
        n: number | string;
        firstSeen: string;
        lastSeen: string;
      }>(
        `SELECT count() AS n, min(timestamp) AS firstSeen, max(timestamp) AS lastSeen
         FROM ${PERSON_ROWS} ${ISO}`,
        { ids },
      );
      const n = Number(row?.n ?? 0);
      return n === 0 || row === undefined
        ? { count: 0, firstSeen: undefined, lastSeen: undefined }
        : { count: n, firstSeen: row.firstSeen, lastSeen: row.lastSeen };
    },
    async identifyTraits(ids) {
      const rows = await warehouse.query<{ traits: string }>(
        `SELECT traits FROM ${PERSON_ROWS} AND type = 'identify'
         ORDER BY timestamp, received_at, message_id`,
        { ids },
      );
      return rows.map((r) => r.traits);
    },
    recentEvents(ids, limit) {
      return warehouse.query<EventSummaryRecord>(
        `SELECT message_id AS messageId, type, event, timestamp, channel, properties
         FROM ${PERSON_ROWS}
         ORDER BY timestamp DESC, message_id DESC LIMIT {limit:UInt32} ${ISO}`,
        { ids, limit },
      );
    },
    eventPage(ids, after, limit) {
      const order = 'timestamp, message_id, source_id, anonymous_id, user_id';
      const from =
        after === undefined
          ? ''
          : `AND (${order}) > (parseDateTime64BestEffort({t:String}, 3, 'UTC'), {m:String}, {s:String}, {a:String}, {u:String})`;
      return warehouse.query<Record<string, unknown>>(
        `SELECT * FROM ${PERSON_ROWS} ${from}
         ORDER BY ${order} LIMIT {limit:UInt32} ${ISO}`,
        after === undefined
          ? { ids, limit }
          : {
              ids,
              limit,
              t: after.timestamp,
              m: after.messageId,
              s: after.sourceId,
              a: after.anonymousId,
              u: after.userId,
            },
      );
    },
    async audit(ids, limit) {
      // The latest `limit` rows, answered oldest first.
      const rows = await warehouse.query<AuditRecord>(
        `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT}
         WHERE one_id IN {ids:Array(String)} OR other_id IN {ids:Array(String)}
         ORDER BY at DESC, kind, one_id, other_id, identifier_hash
         ${limit === undefined ? '' : 'LIMIT {limit:UInt32}'} ${ISO}`,
        limit === undefined ? { ids } : { ids, limit },
      );
      return rows.reverse();
    },
    auditOfRequest(requestId, kind, since) {
      // `at` bounds the scan to recent partitions; request_id is not in the key.
      return warehouse.query<AuditRecord>(
        `SELECT ${AUDIT_COLUMNS} FROM ${AUDIT}
         WHERE request_id = {r:String} AND kind = {k:String}
           AND at >= parseDateTime64BestEffort({since:String}, 3, 'UTC')
         ORDER BY identifier_type, identifier_hash ${ISO}`,
        { r: requestId, k: kind, since },
      );
    },
    async moveEvents(ids, rule, into) {
      const pick = eventMoveSql(rule);
      if (pick === undefined) return 0;
      const params = { ...pick.params, ids, into };
      const where = `one_id IN {ids:Array(String)} AND ${pick.sql}`;
      const n = await count(`SELECT count() AS n FROM ${EVENTS} FINAL WHERE ${where}`, params);
      if (n > 0)
        await warehouse.command(
          `ALTER TABLE ${EVENTS} UPDATE one_id = {into:String} WHERE ${where} ${SYNC}`,
          params,
        );
      return n;
    },
    async erase(ids) {
      const p = { ids };
      const n = await count(
        `SELECT count() AS n FROM ${EVENTS} FINAL WHERE one_id IN {ids:Array(String)}`,
        p,
      );
      // Erase by key, not only by one_id: both tables are Replacing trees,
      // and an older version of a row (an event's first copy stamped with
      // another id, an identifier held by another person before a split)
      // would otherwise become the latest and bring the data back.
      const messages = (
        await warehouse.query<{ message_id: string }>(
          `SELECT DISTINCT message_id FROM ${EVENTS} WHERE one_id IN {ids:Array(String)}`,
          p,
        )
      ).map((r) => r.message_id);
      const own = await warehouse.query<{ id_type: string; id_value: string }>(OWN_KEYS, p);
      const hashes = hashesOf(own.map((r) => ({ type: r.id_type, value: r.id_value })));
      // Mutations that rewrite the parts holding the rows (a lightweight
      // delete would only hide them until the next merge), naming person ids,
      // message ids and hashes only; the old parts leave the disk after
      // `old_parts_lifetime` (migration 008).
      await warehouse.command(
        `ALTER TABLE ${EVENTS} DELETE
         WHERE one_id IN {ids:Array(String)} OR message_id IN {messages:Array(String)} ${SYNC}`,
        { ids, messages },
      );
      if (hashes.length > 0)
        await warehouse.command(
          `ALTER TABLE ${INVALID} DELETE WHERE hasAny(identifier_hashes, {hashes:Array(String)}) ${SYNC}`,
          { hashes },
        );
      await warehouse.command(
        `ALTER TABLE ${IDENTITIES} DELETE
         WHERE one_id IN {ids:Array(String)} OR (id_type, id_value) IN (${OWN_KEYS}) ${SYNC}`,
        p,
      );
      await warehouse.command(
        `DELETE FROM ${OVERRIDES}
         WHERE from_one_id IN {ids:Array(String)} OR into_one_id IN {ids:Array(String)}`,
        p,
      );
      await warehouse.command(
        `DELETE FROM ${BLOCKS}
         WHERE one_id IN {ids:Array(String)} OR other_one_id IN {ids:Array(String)}`,
        p,
      );
      // `delete` rows stay: they are the tombstone's trail and hold no identifier.
      await warehouse.command(
        `DELETE FROM ${AUDIT}
         WHERE (one_id IN {ids:Array(String)} OR other_id IN {ids:Array(String)})
           AND kind != 'delete'`,
        p,
      );
      for (const t of TAG_TABLES)
        await warehouse.command(`DELETE FROM ${t} WHERE person_id IN {ids:Array(String)}`, p);
      // The resolver's journal of a batch (identifiers in clear) is replaced
      // by its `done` mark; merging drops the replaced rows now.
      await warehouse.command(`OPTIMIZE TABLE ${TABLES.identityResolverProgress} FINAL`);
      wakeHousekeeping();
      return n;
    },
    deadLetters(hashes) {
      if (hashes.length === 0) return Promise.resolve([]);
      return warehouse.query<Record<string, unknown>>(
        `SELECT id, received_at, source_id, code, field, reason, payload, ip
         FROM ${INVALID} FINAL WHERE hasAny(identifier_hashes, {hashes:Array(String)})
         ORDER BY received_at, id ${ISO}`,
        { hashes },
      );
    },
  };
}
