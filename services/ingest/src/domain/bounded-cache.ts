/**
 * The memo behind the enrichment hot path's caches (user agents, URLs,
 * referrers). Internal to the domain; not re-exported by `index.ts`.
 */

/**
 * A string-keyed memo that cannot grow without bound on untrusted input: it
 * holds at most `maxEntries` entries and starts afresh when full (the working
 * sets are small and repeat heavily, so no LRU bookkeeping), and keys longer
 * than `maxKeyLength` are computed every time instead of remembered.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxKeyLength: number,
  ) {}

  /**
   * The remembered value for `key`, else `compute(key)`, remembered.
   * `compute` must be a pure function of the key.
   */
  get(key: string, compute: (key: string) => V): V {
    if (key.length > this.maxKeyLength) return compute(key);
    const hit = this.entries.get(key);
    if (hit !== undefined || this.entries.has(key)) return hit as V;
    // V8 may represent `key` as a view into a much larger string (after
    // `trim` or `slice`); remember a copy, and compute from the copy, so that
    // neither the key nor a value sliced from it keeps a request body alive.
    const own = detached(key);
    const value = compute(own);
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(own, value);
    return value;
  }

  /** Number of remembered entries (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/** A copy of `s` in its own memory: concatenating then slicing makes V8 flatten it. */
function detached(s: string): string {
  return ` ${s}`.slice(1);
}
