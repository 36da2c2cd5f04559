/**
 * Largest request body: under the 64 KiB that browsers allow in flight for
 * `keepalive` fetches and beacons together.
 */
export const MAX_BODY_BYTES = 64_000;

/** Largest single event; the ingest refuses bigger ones (`CDP_MAX_EVENT_BYTES`, 32 KiB). */
export const MAX_EVENT_BYTES = 32 * 1024;

/** UTF-8 length of `s` without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      // A surrogate pair: one 4-byte code point.
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Splits `items`, in order, into chunks of at most `maxItems` whose
 * `overhead` plus sizes plus one separator between items stays within
 * `maxBytes`. An item bigger than that on its own gets a chunk to itself.
 */
export function chunk<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxItems: number,
  maxBytes: number,
  overhead: number,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let bytes = overhead;
  for (const item of items) {
    const size = sizeOf(item) + (cur.length > 0 ? 1 : 0);
    if (cur.length > 0 && (cur.length >= maxItems || bytes + size > maxBytes)) {
      out.push(cur);
      cur = [];
      bytes = overhead;
      bytes += size - 1;
    } else bytes += size;
    cur.push(item);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
