/**
 * Delay before retry number `attempt` (1-based): `baseMs * 2^(attempt-1)`
 * capped at `maxMs`, then "equal jitter" (between half and all of it) so that
 * many clients failing together do not retry together.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/** Longest `Retry-After` honoured; a longer one is taken as this. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * A `Retry-After` header value in ms from `now`: delay-seconds or an HTTP
 * date. `undefined` when absent or unreadable (the caller backs off instead).
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(v)) ms = Number(v) * 1000;
  else {
    // An HTTP date has a weekday and month name; Date.parse alone takes "-5" as a year.
    const at = /[a-z]/i.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
}
