/**
 * Collects rows from many bus batches into one warehouse insert, flushed when
 * `maxRows` is reached or `maxWaitMs` after the oldest pending row entered
 * the bus. Each `add()` resolves only once its rows are inserted, so the bus
 * commits offsets only for rows that are in the warehouse (at-least-once).
 *
 * The deadline counts from when the bus accepted the oldest message, not from
 * `add()`: messages that waited on the bus while the previous insert ran are
 * not made to wait a full interval again (that doubled the worst latency).
 */
export interface Batcher<R> {
  /** `since`: when the oldest of these rows entered the bus (ms; default now). */
  add(rows: readonly R[], part: string, since?: number): Promise<void>;
  /** Flushes what is pending now. */
  flush(): Promise<void>;
  readonly pendingRows: number;
}

export function createBatcher<R>(opts: {
  readonly maxRows: number;
  readonly maxWaitMs: number;
  /** Inserts the rows; `parts` names what they came from (for dedup tokens and logs). */
  readonly write: (rows: R[], parts: string[]) => Promise<void>;
  readonly now?: () => number;
}): Batcher<R> {
  const now = opts.now ?? Date.now;
  let deadline = Infinity;
  let rows: R[] = [];
  let parts: string[] = [];
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  // Writes are serialised: the warehouse sees one insert per table at a time.
  let chain: Promise<void> = Promise.resolve();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    deadline = Infinity;
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
    add(newRows, part, since) {
      return new Promise<void>((resolve, reject) => {
        if (newRows.length === 0) return resolve();
        for (const r of newRows) rows.push(r);
        parts.push(part);
        waiters.push({ resolve, reject });
        if (rows.length >= opts.maxRows) {
          void flush();
          return;
        }
        const due = Math.min(since ?? now(), now()) + opts.maxWaitMs;
        if (due < deadline) {
          deadline = due;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => void flush(), Math.max(0, due - now()));
        }
      });
    },
    flush,
  };
}
