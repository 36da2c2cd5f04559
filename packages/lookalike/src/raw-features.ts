import { Issues } from './errors.js';

/**
 * A numeric feature: any finite number; `null`, `undefined`, `NaN` or
 * text that is not a number is missing. Text holding a number (`"42"`, as
 * tag values are stored) is read as that number.
 */
export interface NumericSpec {
  readonly name: string;
  readonly kind: 'numeric';
  /**
   * `log1p` (counts, money: `sign(x) * ln(1 + |x|)`) before standardising,
   * or `none` (default).
   */
  readonly transform?: 'log1p' | 'none';
  /**
   * Quantile bins (indicator columns) beside the standardised value, so the
   * linear model can weigh a middle range (default 4; 0 or 1: none).
   */
  readonly bins?: number;
}

/** A categorical feature: one string per person (`null`, `undefined` or `''`: missing). */
export interface CategoricalSpec {
  readonly name: string;
  readonly kind: 'categorical';
  /** The most frequent values kept as columns (default 20); the rest share one `(other)` column. */
  readonly topK?: number;
}

/** A multi-valued categorical feature: a set of strings per person (channels, devices). */
export interface MultiSpec {
  readonly name: string;
  readonly kind: 'multi';
  /** The most frequent values kept as columns (default 20); the rest are dropped. */
  readonly topK?: number;
}

export type FeatureSpec = NumericSpec | CategoricalSpec | MultiSpec;

/** A value of one person's feature, as a caller has it. */
export type RawValue = number | string | readonly string[] | null | undefined;

/** One person's raw features, keyed by feature name; absent keys are missing values. */
export type RawRecord = Readonly<Record<string, RawValue>>;

/** A numeric column: `NaN` where missing. */
export interface NumericColumn {
  readonly kind: 'numeric';
  readonly spec: NumericSpec;
  readonly values: Float64Array;
}

/** A categorical column, dictionary-encoded: `codes[i]` indexes `labels`, -1 where missing. */
export interface CategoricalColumn {
  readonly kind: 'categorical';
  readonly spec: CategoricalSpec;
  readonly codes: Int32Array;
  readonly labels: readonly string[];
}

/**
 * A multi-valued column (CSR): person i's values are
 * `labels[codes[offsets[i]] .. codes[offsets[i + 1] - 1]]`, each once.
 */
export interface MultiColumn {
  readonly kind: 'multi';
  readonly spec: MultiSpec;
  readonly offsets: Int32Array;
  readonly codes: Int32Array;
  readonly labels: readonly string[];
}

export type RawColumn = NumericColumn | CategoricalColumn | MultiColumn;

/** Everyone's raw features, by column: person i is row i of every column. */
export interface RawFeatures {
  readonly size: number;
  readonly columns: readonly RawColumn[];
}

/** Fills {@link RawFeatures} one person at a time, in compact typed arrays. */
export interface FeatureBuilder {
  /** Appends a person; returns their row index. Throws on a value of the wrong type. */
  add(record: RawRecord): number;
  /** People added so far. */
  readonly size: number;
  /** The columns, trimmed to `size`. The builder must not be used afterwards. */
  finish(): RawFeatures;
}

export const DEFAULT_TOP_K = 20;
export const DEFAULT_BINS = 4;
/** Most quantile bins of one numeric feature. */
export const MAX_BINS = 20;
/** Most values kept as columns of one categorical feature. */
export const MAX_TOP_K = 1000;

/** Checks feature specs once; every problem is reported together. */
export function validateSpecs(specs: readonly FeatureSpec[]): void {
  const issues = new Issues();
  const seen = new Set<string>();
  if (specs.length === 0) issues.add('specs', 'at least one feature is needed');
  specs.forEach((s, i) => {
    const f = `specs[${i}]`;
    if (typeof s.name !== 'string' || s.name === '') issues.add(`${f}.name`, 'must be a name');
    else if (seen.has(s.name)) issues.add(`${f}.name`, `"${s.name}" is named twice`);
    else seen.add(s.name);
    switch (s.kind) {
      case 'numeric':
        if (s.transform !== undefined && s.transform !== 'log1p' && s.transform !== 'none')
          issues.add(`${f}.transform`, 'must be log1p or none');
        if (
          s.bins !== undefined &&
          !(Number.isInteger(s.bins) && s.bins >= 0 && s.bins <= MAX_BINS)
        )
          issues.add(`${f}.bins`, `must be an integer from 0 to ${MAX_BINS}`);
        break;
      case 'categorical':
      case 'multi':
        if (
          s.topK !== undefined &&
          !(Number.isInteger(s.topK) && s.topK >= 1 && s.topK <= MAX_TOP_K)
        )
          issues.add(`${f}.topK`, `must be an integer from 1 to ${MAX_TOP_K}`);
        break;
      default:
        issues.add(`${f}.kind`, 'must be numeric, categorical or multi');
    }
  });
  issues.throwIfAny();
}

/** A growable Int32Array or Float64Array. */
class Grow<A extends Int32Array | Float64Array> {
  length = 0;
  constructor(
    public data: A,
    private readonly make: (n: number) => A,
  ) {}

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(Math.max(16, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  trimmed(): A {
    return this.data.slice(0, this.length) as A;
  }
}

class Dictionary {
  readonly labels: string[] = [];
  private readonly codes = new Map<string, number>();

  code(label: string): number {
    let c = this.codes.get(label);
    if (c === undefined) {
      c = this.labels.length;
      this.labels.push(label);
      this.codes.set(label, c);
    }
    return c;
  }
}

interface ColumnBuilder {
  /** Why `v` cannot be a value of this column, or undefined when it can. */
  problem(v: RawValue): string | undefined;
  add(v: RawValue): void;
  finish(): RawColumn;
}

const f64 = (n: number): Float64Array => new Float64Array(n);
const i32 = (n: number): Int32Array => new Int32Array(n);

function numberOf(v: RawValue): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'string') {
    const t = v.trim();
    const n = t === '' ? NaN : Number(t);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}

function numericBuilder(spec: NumericSpec, capacity: number): ColumnBuilder {
  const values = new Grow(f64(capacity), f64);
  return {
    problem: (v) =>
      v === null || v === undefined || typeof v === 'number' || typeof v === 'string'
        ? undefined
        : 'must be a number, numeric text or null',
    add: (v) => values.push(numberOf(v)),
    finish: () => ({ kind: 'numeric', spec, values: values.trimmed() }),
  };
}

function categoricalBuilder(spec: CategoricalSpec, capacity: number): ColumnBuilder {
  const codes = new Grow(i32(capacity), i32);
  const dict = new Dictionary();
  return {
    problem: (v) =>
      v === null || v === undefined || typeof v === 'string' || typeof v === 'number'
        ? undefined
        : 'must be a string, a number or null',
    add(v) {
      if (typeof v === 'string' && v !== '') codes.push(dict.code(v));
      else if (typeof v === 'number' && Number.isFinite(v)) codes.push(dict.code(String(v)));
      else codes.push(-1);
    },
    finish: () => ({ kind: 'categorical', spec, codes: codes.trimmed(), labels: dict.labels }),
  };
}

function multiBuilder(spec: MultiSpec, capacity: number): ColumnBuilder {
  const offsets = new Grow(i32(capacity + 1), i32);
  offsets.push(0);
  const codes = new Grow(i32(capacity), i32);
  const dict = new Dictionary();
  const put = (s: string, start: number): void => {
    if (s === '') return;
    const c = dict.code(s);
    for (let j = start; j < codes.length; j++) if (codes.data[j] === c) return;
    codes.push(c);
  };
  return {
    problem(v) {
      if (v === null || v === undefined || typeof v === 'string') return undefined;
      if (Array.isArray(v) && (v as readonly unknown[]).every((s) => typeof s === 'string'))
        return undefined;
      return 'must be a list of strings, a string or null';
    },
    add(v) {
      const start = codes.length;
      if (typeof v === 'string') put(v, start);
      else if (Array.isArray(v)) for (const s of v as readonly string[]) put(s, start);
      offsets.push(codes.length);
    },
    finish: () => ({
      kind: 'multi',
      spec,
      offsets: offsets.trimmed(),
      codes: codes.trimmed(),
      labels: dict.labels,
    }),
  };
}

/**
 * A builder of raw features for `specs` (checked here). `capacity` is a
 * hint of how many people will be added (default 1,024; arrays grow).
 * Values of the wrong type throw a `LookalikeError` naming the record and
 * the feature; a caller may pass the same (mutated) record object each time.
 */
export function createFeatureBuilder(
  specs: readonly FeatureSpec[],
  opts: { readonly capacity?: number } = {},
): FeatureBuilder {
  validateSpecs(specs);
  const capacity = Math.max(16, Math.floor(opts.capacity ?? 1024));
  const columns = specs.map((s): ColumnBuilder => {
    switch (s.kind) {
      case 'numeric':
        return numericBuilder(s, capacity);
      case 'categorical':
        return categoricalBuilder(s, capacity);
      case 'multi':
        return multiBuilder(s, capacity);
    }
  });
  let size = 0;
  return {
    add(record: RawRecord): number {
      // Every value is checked before any is stored, so a refused record
      // leaves the columns as they were.
      let issues: Issues | undefined;
      for (let c = 0; c < columns.length; c++) {
        const name = (specs[c] as FeatureSpec).name;
        const problem = (columns[c] as ColumnBuilder).problem(record[name]);
        if (problem !== undefined)
          (issues ??= new Issues()).add(`records[${size}].${name}`, problem);
      }
      issues?.throwIfAny();
      for (let c = 0; c < columns.length; c++)
        (columns[c] as ColumnBuilder).add(record[(specs[c] as FeatureSpec).name]);
      return size++;
    },
    get size() {
      return size;
    },
    finish: () => ({ size, columns: columns.map((c) => c.finish()) }),
  };
}

/** Raw features of `records` (row i is `records[i]`). */
export function rawFeaturesFromRecords(
  specs: readonly FeatureSpec[],
  records: readonly RawRecord[],
): RawFeatures {
  const b = createFeatureBuilder(specs, { capacity: records.length });
  for (const r of records) b.add(r);
  return b.finish();
}
