import { identifierKey, type Identifier } from './identifier.js';
import { compileRules, DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules.js';
import { uuidBytes, uuidV5 } from './uuid-v5.js';

/**
 * The UUID v5 namespace of person ids: itself UUID v5 of
 * `https://cdp.dev/oneid` in the RFC 9562 URL namespace. Never change it: every
 * stored `one_id` was derived from it.
 */
export const ONEID_NAMESPACE = '20724687-b364-588e-ad17-ca2885dc870c';

const NAMESPACE_BYTES = uuidBytes(ONEID_NAMESPACE);

/**
 * The person id an identifier names at a generation: UUID v5 in
 * {@link ONEID_NAMESPACE} of `<type>:<stored value>` (generation 0) or
 * `<type>:<stored value>#<generation>`. The stored value of email and phone is
 * their SHA-256 hex, so ids never need the raw contact data.
 */
export function personIdFor(identifier: Identifier, generation = 0): string {
  const key = identifierKey(identifier);
  return uuidV5(generation === 0 ? key : `${key}#${generation}`, NAMESPACE_BYTES);
}

/** Options of {@link provisionalId} and {@link stampOneId}. */
export interface ProvisionalIdOptions {
  /** The rules whose priority order picks the identifier (default: the defaults). */
  readonly rules?: IdentityRules;
  /**
   * Whether an id is already used (a live, merged-away or deleted person). The
   * graph passes its own answer; a stamper that mirrors the graph's person ids
   * and tombstones can pass the same and compute the graph's exact choice.
   * Without it, generation 0 is used.
   */
  readonly isTaken?: (oneId: string) => boolean;
}

/**
 * The most trusted identifier: lowest rank in the priority order, the first
 * given among equals. `undefined` for an empty list.
 */
export function highestPriority(
  identifiers: readonly Identifier[],
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): Identifier | undefined {
  const compiled = compileRules(rules);
  let best: Identifier | undefined;
  let bestRank = Infinity;
  for (const id of identifiers) {
    const r = compiled.rank(id.type);
    if (r < bestRank) {
      best = id;
      bestRank = r;
    }
  }
  return best;
}

/**
 * The first free person id of an identifier: generation 0, 1, 2, ... until
 * `isTaken` says no. Deterministic for a given set of taken ids.
 */
export function allocatePersonId(
  identifier: Identifier,
  isTaken?: (oneId: string) => boolean,
): string {
  for (let generation = 0; ; generation++) {
    const id = personIdFor(identifier, generation);
    if (isTaken === undefined || !isTaken(id)) return id;
  }
}

/**
 * The deterministic id a new person gets from an event's identifiers: the
 * person id of the highest-priority identifier ({@link highestPriority},
 * {@link allocatePersonId}). Parallel stampers compute the same id without the
 * graph; `undefined` when there are no identifiers.
 */
export function provisionalId(
  identifiers: readonly Identifier[],
  options: ProvisionalIdOptions = {},
): string | undefined {
  const top = highestPriority(identifiers, options.rules);
  return top === undefined ? undefined : allocatePersonId(top, options.isTaken);
}
