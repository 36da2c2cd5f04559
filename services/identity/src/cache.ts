import { identifierKey, type Identifier, type IdentityGraph } from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';

/**
 * What a stamper knows of the graph: the person of an identifier, if known.
 * `prefetch` is called once per consumed batch with every identifier in it,
 * so that a remote cache can answer the batch with one query.
 */
export interface StamperCache {
  prefetch(identifiers: readonly Identifier[]): Promise<void>;
  lookup(identifier: Identifier): string | undefined;
}

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
 * processes: a batch's unknown identifiers are fetched with one query. A
 * stale answer is harmless: the stamped id is resolved through
 * `person_overrides` at query time, and the resolver corrects what it must.
 */
export function warehouseCache(warehouse: Warehouse, maxEntries = 200_000): StamperCache {
  const lru = new Map<string, string>();
  const get = (key: string): string | undefined => {
    const v = lru.get(key);
    if (v !== undefined) {
      lru.delete(key);
      lru.set(key, v);
    }
    return v;
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
      const rows = await warehouse.query<{ id_type: string; id_value: string; one_id: string }>(
        `SELECT id_type, id_value, one_id FROM ${TABLES.identities} FINAL
         WHERE id_value IN {values:Array(String)}`,
        { values },
      );
      for (const r of rows) {
        const k = identifierKey({ type: r.id_type, value: r.id_value } as Identifier);
        if (!missing.has(k)) continue;
        lru.set(k, r.one_id);
        if (lru.size > maxEntries) {
          const oldest = lru.keys().next().value;
          if (oldest !== undefined) lru.delete(oldest);
        }
      }
    },
    lookup: (id) => get(identifierKey(id)),
  };
}
