import type { JunkReason } from './reason-codes.js';

/**
 * Placeholder values that clients send when they have no real id, compared
 * after trimming, removing quotes and lower-casing.
 */
export const JUNK_PLACEHOLDERS: ReadonlySet<string> = new Set([
  'null',
  'undefined',
  'none',
  'nil',
  'nan',
  'n/a',
  '0',
  '-1',
  '[object object]',
  'true',
  'false',
  'anonymous',
  'guest',
  'id',
  'unknown',
]);

const ZEROS_AND_DASHES = /^[0-]+$/;

/**
 * Why `raw` is junk, or `undefined` if it is not. `raw` is trimmed, stripped
 * of matching surrounding quotes (`"null"`, `'0'`, `` `none` ``; repeatedly),
 * and compared case-insensitively with {@link JUNK_PLACEHOLDERS}, against
 * "only zeros and dashes" (all-zero UUIDs), and with `blocked` (trimmed,
 * lower-case entries).
 */
export function junkReason(raw: string, blocked: ReadonlySet<string>): JunkReason | undefined {
  let s = raw.trim();
  while (s.length >= 2) {
    const q = s.charCodeAt(0);
    // " ' `
    if ((q !== 34 && q !== 39 && q !== 96) || s.charCodeAt(s.length - 1) !== q) break;
    s = s.slice(1, -1).trim();
  }
  if (s.length === 0) return 'junk_empty';
  const lower = s.toLowerCase();
  if (JUNK_PLACEHOLDERS.has(lower)) return 'junk_placeholder';
  if (ZEROS_AND_DASHES.test(s)) return 'junk_zeros';
  if (blocked.size > 0 && (blocked.has(lower) || blocked.has(raw.trim().toLowerCase())))
    return 'junk_block_list';
  return undefined;
}

/** Adds `n` to `counts[reason]`. */
export function countJunk(
  counts: Partial<Record<JunkReason, number>>,
  reason: JunkReason,
  n = 1,
): void {
  counts[reason] = (counts[reason] ?? 0) + n;
}
