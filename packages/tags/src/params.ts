/**
 * Query parameters of compiled SQL: every value from a definition is bound
 * (`{p3:String}`), never pasted into the SQL text. The same value of the same
 * type gets the same placeholder, so ClickHouse sees one expression where a
 * definition repeats a property (it then extracts it once).
 */
export class SqlParams {
  private readonly byKey = new Map<string, string>();
  readonly values: Record<string, unknown> = {};

  private bind(type: string, value: unknown): string {
    const key = `${type}\u0000${JSON.stringify(value)}`;
    let name = this.byKey.get(key);
    if (name === undefined) {
      name = `p${this.byKey.size}`;
      this.byKey.set(key, name);
      this.values[name] = value;
    }
    return `{${name}:${type}}`;
  }

  str(v: string): string {
    return this.bind('String', v);
  }
  num(v: number): string {
    return this.bind('Float64', v);
  }
  int(v: number): string {
    return this.bind('Int64', Math.trunc(v));
  }
  strs(v: readonly string[]): string {
    return this.bind('Array(String)', [...v]);
  }
  nums(v: readonly number[]): string {
    return this.bind('Array(Float64)', [...v]);
  }
}

/** The JSON path arguments of a (possibly dotted) property name. */
export function pathArgs(params: SqlParams, property: string): string {
  return property
    .split('.')
    .map((p) => params.str(p))
    .join(', ');
}

/** A raw JSON value (`JSONExtractRaw`: '' when absent) as a number, NULL when not a JSON number. */
export const numOfRaw = (raw: string): string => `toFloat64OrNull(${raw})`;

/**
 * A raw JSON value as text: a string's value, any other value as written
 * (`42`, `true`, `{...}`), NULL when absent or null.
 */
export const strOfRaw = (raw: string): string =>
  `multiIf(${raw} IN ('', 'null'), NULL, startsWith(${raw}, '"'), JSONExtractString(${raw}), ${raw})`;

/**
 * The event properties a query reads, each extracted once per row (one
 * parse of the JSON document per property) and only for the events that
 * need it: `if` evaluates its branch lazily, so rows of other events skip
 * the JSON parser.
 */
export class PropertyColumns {
  private readonly byPath = new Map<string, { alias: string; events: Set<string> | 'any' }>();

  constructor(
    private readonly params: SqlParams,
    private readonly column = 'properties',
  ) {}

  /** The alias of a property's raw value; `event` narrows which rows need it (absent: any). */
  raw(property: string, event?: string | readonly string[]): string {
    let e = this.byPath.get(property);
    if (!e) {
      e = { alias: `pr${this.byPath.size}`, events: new Set() };
      this.byPath.set(property, e);
    }
    if (event === undefined) e.events = 'any';
    else if (e.events !== 'any')
      for (const x of typeof event === 'string' ? [event] : event) e.events.add(x);
    return e.alias;
  }

  num(property: string, event?: string | readonly string[]): string {
    return numOfRaw(this.raw(property, event));
  }

  str(property: string, event?: string | readonly string[]): string {
    return strOfRaw(this.raw(property, event));
  }

  /** The `expr AS alias` list for the row subquery. */
  selectList(): string[] {
    return [...this.byPath.entries()].map(([path, { alias, events }]) => {
      const extract = `JSONExtractRaw(${this.column}, ${pathArgs(this.params, path)})`;
      if (events === 'any') return `${extract} AS ${alias}`;
      const names = this.params.strs([...events].sort());
      return `if(event IN ${names} OR (type IN ('page', 'screen') AND name IN ${names}), ${extract}, '') AS ${alias}`;
    });
  }
}

/** A property of a JSON column as a number (JSON numbers only), NULL when absent or not a number. */
export function numProp(params: SqlParams, property: string, column: string): string {
  return numOfRaw(`JSONExtractRaw(${column}, ${pathArgs(params, property)})`);
}

/** A property of a JSON column as text (see {@link strOfRaw}). */
export function strProp(params: SqlParams, property: string, column: string): string {
  return strOfRaw(`JSONExtractRaw(${column}, ${pathArgs(params, property)})`);
}

export const DAY_MS = 86_400_000;
