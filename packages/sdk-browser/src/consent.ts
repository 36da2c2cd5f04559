import type { ConsentInput } from './types.js';

/**
 * Segment's `categoryPreferences` from a `consent()` argument: a list grants
 * the listed categories (and says `false` for the `needed` ones it omits); a
 * map is taken as it is (boolean values only).
 */
export function categoryPreferences(
  input: ConsentInput,
  needed: readonly string[],
): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (Array.isArray(input)) {
    for (const c of needed) out[c] = false;
    for (const c of input as readonly unknown[]) if (typeof c === 'string') out[c] = true;
  } else {
    for (const [c, v] of Object.entries(input)) if (typeof v === 'boolean') out[c] = v;
  }
  return out;
}

/** Whether every `needed` category is granted (no needed category: any answer will do). */
export function isGranted(
  prefs: Record<string, boolean> | undefined,
  needed: readonly string[],
): boolean {
  return prefs !== undefined && needed.every((c) => prefs[c] === true);
}
