export interface WaitForOptions {
  /** Give up after this long (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** Pause between attempts (default 50 ms). */
  readonly intervalMs?: number;
  /** Names what is awaited, for the timeout error. */
  readonly what?: string;
}

/**
 * Calls `fn` until it passes, and resolves with its result. It passes when it
 * neither throws nor returns `false`, so both predicates (`() => n === 3`) and
 * assertions (`() => expect(rows).toHaveLength(3)`) work. On timeout it
 * rejects with the last failure as `cause` and in the message.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Exclude<T, false>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last: unknown;
  for (;;) {
    attempts++;
    try {
      const value = await fn();
      if (value !== false) return value as Exclude<T, false>;
      last = new Error('the predicate returned false');
    } catch (err) {
      last = err;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw new Error(
    `waitFor${opts.what ? ` (${opts.what})` : ''}: gave up after ${timeoutMs} ms and ${attempts} attempts: ${reason}`,
    {
      cause: last,
    },
  );
}
