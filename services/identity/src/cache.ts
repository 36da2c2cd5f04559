import { identifierKey, personIdFor, type Identifier, type IdentityGraph } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';

/**
 * What a stamper knows of the graph: the person of an identifier, if known.
 * `prefetch` is called once per consumed batch with every identifier in it,
 * so that a remote cache can answer the batch with one query.
 */
export interface StamperCache {
  prefetch(identifiers: readonly Identifier[]): Promise<void>;
  lookup(identifier: Identifier): string | undefined;
  /**
   * Forgets what it knows of these people (the resolver merged, split or
   * erased them: `cdp.identity.changes`); `undefined` when the cache is
   * the resolver's own graph and never stale.
   */
  readonly invalidate?: (oneIds: readonly string[]) => void;
  /**
   * Whether a person id was used (merged away or erased), for the
   * provisional ids of identifiers it does not know: so that the stamper
   * picks the graph's own choice, never an erased person's id.
   */
  readonly isTaken?: (oneId: string) => boolean;
}

/** Generations of provisional ids checked per identifier (the graph goes on; the resolver corrects). */
const MAX_GENERATIONS = 4;

/**
 * The resolver's own graph as the cache: exact, and free, when the stamper
 * runs in the resolver's process (the all-in-one runner). The stamper only
 * reads it; every change still goes through the links topic.
 */
export function graphCache(graph: () => IdentityGraph): StamperCache {
  return {
    prefetch: async () => {},
    lookup: (id) => graph().lookup(id),
  };
}

/**
 * A bounded LRU in front of the `identities` table, for stampers in their own
 * processes: a batch's unknown identifiers are fetched with one query. The
 * stamper drops the entries of people the resolver changed (`invalidate`):
 * a cached answer for an erased person would stamp the next event with the
 * erased id and send no link, and one for a split person the old id.
 */
export function warehouseCache(warehouse: Warehouse, maxEntries = 200_000): StamperCache {
  const lru = new Map<string, string>();
  /** Person ids known to be merged away or erased (bounded like the LRU). */
  const taken = new Set<string>();
  const takenAmong = async (ids: readonly string[]): Promise<Set<string>> => {
    const rows = await warehouse.query<{ id: string }>(
      `SELECT one_id AS id FROM ${TABLES.identityTombstones} WHERE one_id IN {ids:Array(String)}
       UNION ALL
       SELECT from_one_id AS id FROM ${TABLES.personOverrides} WHERE from_one_id IN {ids:Array(String)}`,
      { ids },
    );
    return new Set(rows.map((r) => r.id));
  };
  const get = (key: string): string | undefined => {
    const v = lru.get(key);
    if (v !== undefined) {
      lru.delete(key);
      lru.set(key, v);
    }
    return v;
  };
  /**
   * The people invalidated while each fetch was in flight: a fetch that
   * read a person before the change was stored must not cache that answer
   * after the invalidation has run (it would stay stale until evicted).
   */
  const inFlight = new Set<Set<string>>();
  const fetchRows = async (
    values: readonly string[],
  ): Promise<{ id_type: string; id_value: string; one_id: string }[]> => {
    for (let attempt = 0; ; attempt++) {
      const invalidated = new Set<string>();
      inFlight.add(invalidated);
      let rows: { id_type: string; id_value: string; one_id: string }[];
      try {
        rows = await warehouse.query<{ id_type: string; id_value: string; one_id: string }>(
          `SELECT id_type, id_value, one_id FROM ${TABLES.identities} FINAL
           WHERE id_value IN {values:Array(String)}`,
          { values },
        );
      } finally {
        inFlight.delete(invalidated);
      }
      // A change published during the read is stored already: read again.
      if (!rows.some((r) => invalidated.has(r.one_id))) return rows;
      if (attempt >= 2) return rows.filter((r) => !invalidated.has(r.one_id));
    }
  };
  return {
    async prefetch(identifiers) {
      const missing = new Map<string, Identifier>();
      for (const id of identifiers) {
        const k = identifierKey(id);
        if (!lru.has(k)) missing.set(k, id);
      }
      if (missing.size === 0) return;
      const values = [...new Set([...missing.values()].map((i) => i.value))];
      const rows = await fetchRows(values);
      for (const r of rows) {
        const k = identifierKey({ type: r.id_type, value: r.id_value } as Identifier);
        if (!missing.has(k)) continue;
        missing.delete(k);
        lru.set(k, r.one_id);
        if (lru.size > maxEntries) {
          const oldest = lru.keys().next().value;
          if (oldest !== undefined) lru.delete(oldest);
        }
      }
      // Still unknown: which of their provisional ids are used already.
      let pending = [...missing.values()];
      for (let g = 0; g < MAX_GENERATIONS && pending.length > 0; g++) {
        const candidates = pending.map((i) => personIdFor(i, g));
        const used = await takenAmong(candidates.filter((id) => !taken.has(id)));
        for (const id of used) taken.add(id);
        pending = pending.filter((_, n) => taken.has(candidates[n] as string));
      }
      if (taken.size > maxEntries) taken.clear();
    },
    isTaken: (id) => taken.has(id),
    lookup: (id) => get(identifierKey(id)),
    invalidate(oneIds) {
      const gone = new Set(oneIds);
      for (const [k, v] of lru) if (gone.has(v)) lru.delete(k);
      for (const s of inFlight) for (const id of oneIds) s.add(id);
    },
  };
}
