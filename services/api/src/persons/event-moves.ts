/**
 * Which of a person's events follow a split to the new person.
 *
 * An event belongs to the person of its most trusted identifier (the
 * resolver's priority order, as a stamper stamps it). So an event moves when
 * the most trusted of its identifiers that the person held is one of the
 * moved ones: after splitting anonymous id `a2` off a person who also holds
 * user id `u1`, an event with only `a2` moves, an event with `u1` and `a2`
 * (the login that linked them) stays with `u1`.
 *
 * Only identifiers that are columns of `events` can be matched: `user_id`,
 * `anonymous_id` and `device_id` (`context.device.id`). Email, phone and
 * external ids are not event columns (traits may hold emails in clear or not
 * at all, phones in any format): events carrying only those stay where they
 * are, and they do not count when deciding who an event belongs to.
 */

/** The `events` expression of each identifier type that is an event column. */
export const EVENT_COLUMNS = {
  user_id: 'user_id',
  anonymous_id: 'anonymous_id',
  device_id: "JSONExtractString(context, 'device', 'id')",
} as const;

export type EventColumnType = keyof typeof EVENT_COLUMNS;

/** A column's values in the person before the split, and those moved. */
export interface EventMoveColumn {
  readonly type: EventColumnType;
  readonly held: readonly string[];
  readonly moved: readonly string[];
}

/** Column types in priority order, most trusted first; only types the person held. */
export interface EventMoveRule {
  readonly columns: readonly EventMoveColumn[];
}

interface TypedValue {
  readonly type: string;
  readonly value: string;
}

const isColumnType = (t: string): t is EventColumnType => Object.hasOwn(EVENT_COLUMNS, t);

/**
 * The rule for a split.
 *
 * @param held the person's identifiers before the split (moved ones are added if missing)
 * @param moved the identifiers the resolver moved
 * @param priority the resolver's priority order (`IdentityRules.priority`)
 */
export function eventMoveRule(
  held: readonly TypedValue[],
  moved: readonly TypedValue[],
  priority: readonly string[],
): EventMoveRule {
  const order = priority.filter(isColumnType);
  const columns: EventMoveColumn[] = [];
  for (const type of order) {
    const m = [...new Set(moved.filter((x) => x.type === type).map((x) => x.value))].sort();
    const h = [
      ...new Set([...held.filter((x) => x.type === type).map((x) => x.value), ...m]),
    ].sort();
    if (h.length > 0) columns.push({ type, held: h, moved: m });
  }
  return { columns };
}

/**
 * The rule as a ClickHouse condition over `events` with its parameters, or
 * undefined when no event can move (nothing moved is an event column).
 */
export function eventMoveSql(
  rule: EventMoveRule,
): { sql: string; params: Record<string, readonly string[]> } | undefined {
  let last = -1;
  rule.columns.forEach((c, i) => {
    if (c.moved.length > 0) last = i;
  });
  if (last === -1) return undefined;
  // multiIf stops at the first column the person holds a value of: that is
  // the event's most trusted identifier, and it decides. Columns after the
  // last one with moved values can only say "stays", the default.
  const parts: string[] = [];
  const params: Record<string, readonly string[]> = {};
  for (const c of rule.columns.slice(0, last + 1)) {
    const col = EVENT_COLUMNS[c.type];
    parts.push(
      `${col} IN {held_${c.type}:Array(String)}`,
      `${col} IN {moved_${c.type}:Array(String)}`,
    );
    params[`held_${c.type}`] = c.held;
    params[`moved_${c.type}`] = c.moved;
  }
  return { sql: `multiIf(${parts.join(', ')}, 0)`, params };
}
