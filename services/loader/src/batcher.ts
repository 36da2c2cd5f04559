/**
 * Collects rows from many bus batches into one warehouse insert, flushed when
 * `maxRows` is reached or `maxWaitMs` after the first pending row. Each
 * `add()` resolves only once its rows are inserted, so the bus commits
 * offsets only for rows that are in the warehouse (at-least-once).
 */
export interface Batcher<R> {
  add(rows: readonly R[], part: string): Promise<void>;
  /** Flushes what is pending now. */
  flush(): Promise<void>;
  readonly pendingRows: number;
}

export function createBatcher<R>(opts: {
  readonly maxRows: number;
  readonly maxWaitMs: number;
  /** Inserts the rows; `parts` names what they came from (for dedup tokens and logs). */
  readonly write: (rows: R[], parts: string[]) => Promise<void>;
}): Batcher<R> {
  let rows: R[] = [];
  let parts: string[] = [];
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Writes are serialised: the warehouse sees one insert per table at a time.
  let chain: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (rows.length === 0) return chain;
    const r = rows;
    const p = parts;
    const w = waiters;
    rows = [];
    parts = [];
    waiters = [];
    chain = chain.then(() =>
      opts.write(r, p).then(
        () => w.forEach((x) => x.resolve()),
        (err: unknown) => w.forEach((x) => x.reject(err)),
      ),
    );
    return chain;
  };

  return {
    get pendingRows() {
      return rows.length;
    },
    add(newRows, part) {
      return new Promise<void>((resolve, reject) => {
        if (newRows.length === 0) return resolve();
        for (const r of newRows) rows.push(r);
        parts.push(part);
        waiters.push({ resolve, reject });
        if (rows.length >= opts.maxRows) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), opts.maxWaitMs);
      });
    },
    flush,
  };
}
