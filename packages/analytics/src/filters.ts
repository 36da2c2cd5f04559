import type { InputIssues } from './input.js';

/**
 * Columns a filter or breakdown may name, mapped to fixed SQL. Requests pick
 * a key; the SQL text never contains what they sent.
 */
export const FILTER_COLUMNS: Readonly<Record<string, string>> = {
  channel: 'toString(channel)',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  page_path: 'page_path',
  type: 'toString(type)',
};

/**
 * A step's or path's event label: a track call's `event`, a page or screen
 * call's `name`, else its `page_path`.
 */
export const EVENT_LABEL_SQL = `if(type = 'track', event, if(name != '', name, page_path))`;

/**
 * `EVENT_LABEL_SQL = <param>` without building the label: comparing each
 * column and picking the result copies no strings. bench/sql-variants.mjs
 * times a 5-step funnel both ways (figures in bench/FIGURES.md#sql-variants).
 */
export const eventLabelIsSql = (param: string): string =>
  `if(type = 'track', event = ${param}, if(name != '', name = ${param}, page_path = ${param}))`;

type Scalar = string | number | boolean;

/**
 * One condition on an event: a JSON property (`property`) or a column
 * (`column`, one of {@link FILTER_COLUMNS}), with `equals`, `notEquals`
 * (a string, number or boolean; columns: strings) or `in` (strings).
 */
export interface WhereFilter {
  readonly property?: string;
  readonly column?: string;
  readonly equals?: Scalar;
  readonly notEquals?: Scalar;
  readonly in?: readonly string[];
}

const isScalar = (v: unknown): v is Scalar =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * Compiles `where` (a filter or an array of them, all must hold) to SQL
 * with named parameters `${prefix}_<n>_*`, added to `params`. Problems go
 * to `issues` under `field`.
 */
export function compileWhere(
  where: unknown,
  field: string,
  prefix: string,
  params: Record<string, string | number | readonly string[]>,
  issues: InputIssues,
): string {
  if (where === undefined) return '1';
  const list: unknown[] = Array.isArray(where) ? where : [where];
  if (list.length > 10) issues.add(field, 'at most 10 conditions');
  const parts: string[] = [];
  list.forEach((w, n) => {
    const f = Array.isArray(where) ? `${field}[${n}]` : field;
    const p = `${prefix}_${n}`;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) {
      issues.add(f, 'must be {property|column, equals|notEquals|in}');
      return;
    }
    const o = w as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!['property', 'column', 'equals', 'notEquals', 'in'].includes(k))
        issues.add(`${f}.${k}`, 'unknown field; use property, column, equals, notEquals, in');
    const ops = ['equals', 'notEquals', 'in'].filter((k) => o[k] !== undefined);
    if (ops.length !== 1) {
      issues.add(f, 'give exactly one of equals, notEquals, in');
      return;
    }
    const op = ops[0] as 'equals' | 'notEquals' | 'in';
    const value = o[op];
    let target: 'string' | 'number' | 'boolean' = 'string';
    if (op === 'in') {
      if (
        !Array.isArray(value) ||
        value.length === 0 ||
        value.length > 100 ||
        !value.every((v) => typeof v === 'string')
      ) {
        issues.add(`${f}.in`, 'must be 1 to 100 strings');
        return;
      }
    } else if (!isScalar(value)) {
      issues.add(`${f}.${op}`, 'must be a string, number or boolean');
      return;
    } else
      target =
        typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string';

    let lhs: string;
    if (o['property'] !== undefined && o['column'] === undefined) {
      const prop = o['property'];
      if (typeof prop !== 'string' || prop === '' || prop.length > 200) {
        issues.add(`${f}.property`, 'must be a non-empty string');
        return;
      }
      params[`${p}_prop`] = prop;
      lhs =
        target === 'number'
          ? `JSONExtractFloat(properties, {${p}_prop:String})`
          : target === 'boolean'
            ? `JSONExtractBool(properties, {${p}_prop:String})`
            : `JSONExtractString(properties, {${p}_prop:String})`;
    } else if (o['column'] !== undefined && o['property'] === undefined) {
      const col = o['column'];
      const sql = typeof col === 'string' ? FILTER_COLUMNS[col] : undefined;
      if (sql === undefined) {
        issues.add(`${f}.column`, `must be one of ${Object.keys(FILTER_COLUMNS).join(', ')}`);
        return;
      }
      if (target !== 'string') {
        issues.add(`${f}.${op}`, 'must be a string for a column');
        return;
      }
      lhs = sql;
    } else {
      issues.add(f, 'give exactly one of property, column');
      return;
    }
    if (op === 'in') {
      params[`${p}_v`] = value as string[];
      parts.push(`has({${p}_v:Array(String)}, ${lhs})`);
      return;
    }
    const type = target === 'number' ? 'Float64' : target === 'boolean' ? 'UInt8' : 'String';
    params[`${p}_v`] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    parts.push(`${lhs} ${op === 'equals' ? '=' : '!='} {${p}_v:${type}}`);
  });
  return parts.length === 0 ? '1' : parts.map((s) => `(${s})`).join(' AND ');
}
