/**
 * A person's latest traits: the `traits` of their identify calls folded in
 * time order, so each key holds the value of the latest call that set it.
 * A trait set to `null` is removed (Segment's way to clear a trait); keys a
 * later call leaves out keep their earlier value. Documents that are not JSON
 * objects (the warehouse stores `{}` for those) are skipped.
 *
 * @param traitsInTimeOrder the `traits` column of identify events, oldest first
 */
export function foldTraits(traitsInTimeOrder: Iterable<string>): Record<string, unknown> {
  // A Map, not an object: a trait named `__proto__` must stay a trait.
  const out = new Map<string, unknown>();
  for (const doc of traitsInTimeOrder) {
    const traits = parseObject(doc);
    if (traits === undefined) continue;
    for (const [k, v] of Object.entries(traits)) {
      if (v === null) out.delete(k);
      else out.set(k, v);
    }
  }
  return Object.fromEntries(out);
}

/** A JSON document as an object, or undefined when it is not a JSON object. */
export function parseObject(doc: string): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(doc);
  } catch {
    return undefined;
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
