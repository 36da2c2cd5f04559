import type { KV } from './store.js';

/** A lease in localStorage: who holds it and until when (ms since the epoch). */
export interface Lease {
  readonly id: string;
  readonly exp: number;
}

function parseLease(json: string | null): Lease | undefined {
  try {
    const v = JSON.parse(json ?? '') as Partial<Lease> | null;
    if (v && typeof v.id === 'string' && typeof v.exp === 'number') return { id: v.id, exp: v.exp };
  } catch {
    // Unreadable: nobody holds it.
  }
  return undefined;
}

/**
 * Takes the lease at `key` for `ttlMs` unless another holder's lease is
 * unexpired, then reads it back: of two tabs writing at once, the one whose
 * write stayed wins. Best effort (localStorage has no compare-and-set), enough
 * to keep two tabs from taking over the same stored events together; a rare
 * double send is harmless because the server deduplicates by `messageId`.
 */
export function tryLease(kv: KV, key: string, id: string, now: number, ttlMs: number): boolean {
  const cur = parseLease(kv.get(key));
  if (cur && cur.id !== id && cur.exp > now) return false;
  kv.set(key, JSON.stringify({ id, exp: now + ttlMs }));
  return parseLease(kv.get(key))?.id === id;
}

/** Gives the lease back if `id` still holds it. */
export function releaseLease(kv: KV, key: string, id: string): void {
  if (parseLease(kv.get(key))?.id === id) kv.remove(key);
}
