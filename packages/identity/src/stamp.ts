import type { Identifier } from './identifier.js';
import { provisionalId, type ProvisionalIdOptions } from './provisional-id.js';
import { compileRules, DEFAULT_IDENTITY_RULES } from './rules.js';

/** What a stamper stamps on an event. */
export interface Stamp {
  readonly oneId: string;
  /** `true` when no identifier was known and the id is the provisional one. */
  readonly provisional: boolean;
}

/**
 * A stamper's answer for an event: the person of the highest-priority
 * identifier that `lookup` knows, else the {@link provisionalId}. `lookup` is
 * whatever view of the graph the stamper has (a cache of `identities`, the
 * graph's own `lookup`). `undefined` when there are no identifiers.
 */
export function stampOneId(
  identifiers: readonly Identifier[],
  lookup: (identifier: Identifier) => string | undefined,
  options: ProvisionalIdOptions = {},
): Stamp | undefined {
  const compiled = compileRules(options.rules ?? DEFAULT_IDENTITY_RULES);
  let known: string | undefined;
  let knownRank = Infinity;
  for (const id of identifiers) {
    const r = compiled.rank(id.type);
    if (r >= knownRank) continue;
    const oneId = lookup(id);
    if (oneId !== undefined) {
      known = oneId;
      knownRank = r;
    }
  }
  if (known !== undefined) return { oneId: known, provisional: false };
  const oneId = provisionalId(identifiers, options);
  return oneId === undefined ? undefined : { oneId, provisional: true };
}
