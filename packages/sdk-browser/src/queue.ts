import type { KV } from './store.js';

/**
 * A tab's stored queue is taken over by another tab when its owner closed it
 * (`t` 0, written on `pagehide`) or has not written it for this long.
 */
export const ORPHAN_AFTER_MS = 5 * 60_000;

/** localStorage key of a tab's queue. */
export const queueKey = (prefix: string, tabId: string): string => `${prefix}q.${tabId}`;

/** A tab's stored queue: last write time (`0` once the page was hidden for good) and events. */
export interface QueueRecord {
  readonly t: number;
  readonly q: readonly unknown[];
}

/** The stored form, written from already serialized events. */
export function serializeRecord(t: number, events: readonly string[]): string {
  return `{"t":${t},"q":[${events.join(',')}]}`;
}

/** A stored queue, or `undefined` when missing or unreadable. */
export function parseRecord(json: string | null): QueueRecord | undefined {
  try {
    const v = JSON.parse(json ?? '') as Partial<QueueRecord> | null;
    if (v && typeof v.t === 'number' && Array.isArray(v.q)) return { t: v.t, q: v.q };
  } catch {
    // Unreadable: treated as absent.
  }
  return undefined;
}

/** Whether the owner of `rec` is probably alive, so its queue must be left alone. */
export function isLive(rec: QueueRecord | undefined, now: number): boolean {
  return rec !== undefined && rec.t !== 0 && now - rec.t < ORPHAN_AFTER_MS;
}

/**
 * How many of the oldest events to drop so that the rest fit `maxEvents` and
 * `maxBytes` (sizes in queue order, oldest first).
 */
export function overflow(sizes: readonly number[], maxEvents: number, maxBytes: number): number {
  let total = 0;
  for (const s of sizes) total += s;
  let drop = 0;
  while (drop < sizes.length && (sizes.length - drop > maxEvents || total > maxBytes)) {
    total -= sizes[drop]!;
    drop++;
  }
  return drop;
}

/**
 * This tab's id: kept in sessionStorage, so a reload finds its own queue. A
 * tab whose id is in use by a live queue (a duplicated tab copies
 * sessionStorage) takes a new one.
 */
export function claimTabId(
  session: KV,
  local: KV,
  prefix: string,
  now: number,
  uuid: () => string,
): string {
  const key = `${prefix}tab`;
  let id = session.get(key);
  if (!id || isLive(parseRecord(local.get(queueKey(prefix, id))), now)) {
    id = uuid();
    session.set(key, id);
  }
  return id;
}
