import { outputsOf, type TagDefinition, type TagValueType } from '@cdp/tags';
import { TABLES, type Warehouse } from '@cdp/warehouse';

/** A stored tag value as the API shows it: a number, a string or a list. */
export function typedValue(value: string, type: TagValueType): unknown {
  switch (type) {
    case 'number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'list':
      try {
        return JSON.parse(value) as unknown;
      } catch {
        return [value];
      }
    case 'string':
      return value;
  }
}

/** Tag name -> value type, for the enabled definitions. */
export function valueTypes(defs: readonly TagDefinition[]): Map<string, TagValueType> {
  return new Map(defs.flatMap((d) => outputsOf(d).map((o) => [o.name, o.valueType] as const)));
}

/** A person's current tags, typed (`_` state keys left out). */
export async function personTags(
  wh: Warehouse,
  defs: readonly TagDefinition[],
  personIds: readonly string[],
): Promise<Record<string, unknown>> {
  if (personIds.length === 0) return {};
  const rows = await wh.query<{ tags: Record<string, string> }>(
    `SELECT tags FROM ${TABLES.personTagState} FINAL
     WHERE person_id IN {ids:Array(String)} AND is_deleted = 0
     ORDER BY person_id = {first:String} DESC LIMIT 1`,
    { ids: [...personIds], first: personIds[0] },
  );
  const types = valueTypes(defs);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rows[0]?.tags ?? {})) {
    if (k.startsWith('_')) continue;
    out[k] = typedValue(v, types.get(k) ?? 'string');
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

export interface Distribution {
  readonly tag: string;
  readonly valueType: TagValueType;
  /** People with a value. */
  readonly people: number;
  /** The most common values (lists: each element), most first, at most 100. */
  readonly values: readonly { value: unknown; count: number }[];
  /** Numbers only: 10 equal-width bins from the smallest to the largest value. */
  readonly histogram?: readonly { from: number; to: number; count: number }[];
}

/** How a tag's values are spread over people. */
export async function distribution(
  wh: Warehouse,
  tag: string,
  valueType: TagValueType,
): Promise<Distribution> {
  const src = `(SELECT value FROM ${TABLES.personTags} FINAL WHERE tag = {tag:String} AND is_deleted = 0)`;
  const [total] = await wh.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${src}`, {
    tag,
  });
  const people = Number(total?.n ?? 0);
  const valueExpr =
    valueType === 'list' ? `arrayJoin(JSONExtract(value, 'Array(String)'))` : 'value';
  const values = await wh.query<{ value: string; count: string }>(
    `SELECT ${valueExpr} AS value, toString(count()) AS count FROM ${src}
     GROUP BY value ORDER BY count() DESC, value LIMIT 100`,
    { tag },
  );
  const out: Distribution = {
    tag,
    valueType,
    people,
    values: values.map((v) => ({
      value: valueType === 'number' ? Number(v.value) : v.value,
      count: Number(v.count),
    })),
  };
  if (valueType !== 'number' || people === 0) return out;
  const [range] = await wh.query<{ lo: number; hi: number }>(
    `SELECT min(toFloat64OrNull(value)) AS lo, max(toFloat64OrNull(value)) AS hi FROM ${src}`,
    { tag },
  );
  const lo = Number(range?.lo ?? 0);
  const hi = Number(range?.hi ?? 0);
  const bins = 10;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const counts = await wh.query<{ b: string; count: string }>(
    `SELECT toString(least(toUInt32(floor((toFloat64OrZero(value) - {lo:Float64}) / {w:Float64})), ${bins - 1})) AS b,
       toString(count()) AS count FROM ${src} GROUP BY b`,
    { tag, lo, w: width },
  );
  const byBin = new Map(counts.map((c) => [Number(c.b), Number(c.count)]));
  const n = hi > lo ? bins : 1;
  return {
    ...out,
    histogram: Array.from({ length: n }, (_, i) => ({
      from: lo + i * width,
      to: hi > lo ? lo + (i + 1) * width : hi,
      count: byBin.get(i) ?? 0,
    })),
  };
}
