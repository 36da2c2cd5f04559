import {
  DEFAULT_BINS,
  DEFAULT_TOP_K,
  type CategoricalColumn,
  type MultiColumn,
  type NumericColumn,
  type RawFeatures,
} from './raw-features.js';

/**
 * Raw features to a dense numeric matrix, with what was learnt from the data
 * kept as an {@link Encoding} (plain JSON) so that other data can be encoded
 * the same way.
 *
 * - numeric: `log1p` if asked (`sign(x) * ln(1 + |x|)`), standardised with
 *   the mean and standard deviation of the present values and clipped to
 *   +/- {@link CLIP_SD}; missing values are 0 (the mean) plus a
 *   `name:missing` indicator column (when any value is missing); and
 *   `bins` quantile indicators `name:q1..` (edges from the present values).
 * - categorical: one-hot over the `topK` most frequent values (ties by
 *   value, in code-unit order), the rest in one `name=(other)` column, and
 *   `name=(missing)` (each only when the data has any).
 * - multi: one indicator per value among the `topK` most frequent.
 *
 * Column order is the spec order, and within a feature the order above, so
 * the same data gives the same matrix.
 */

/** Standardised values are clipped to this many standard deviations. */
export const CLIP_SD = 5;
/** Most values the quantile edges of one numeric feature are taken from (an even stride). */
export const QUANTILE_SAMPLE = 65_536;

export interface NumericEncoding {
  readonly kind: 'numeric';
  readonly name: string;
  readonly transform: 'log1p' | 'none';
  readonly mean: number;
  readonly sd: number;
  /** Whether the `name:missing` column is there. */
  readonly missingColumn: boolean;
  /** Upper edges of the quantile bins but the last (transformed values); `[]`: no bins. */
  readonly binEdges: readonly number[];
}

export interface CategoricalEncoding {
  readonly kind: 'categorical';
  readonly name: string;
  readonly vocabulary: readonly string[];
  readonly otherColumn: boolean;
  readonly missingColumn: boolean;
}

export interface MultiEncoding {
  readonly kind: 'multi';
  readonly name: string;
  readonly vocabulary: readonly string[];
}

export type FeatureEncoding = NumericEncoding | CategoricalEncoding | MultiEncoding;

/** How raw features become matrix columns. */
export interface Encoding {
  readonly features: readonly FeatureEncoding[];
  /** The matrix's column names, in order. */
  readonly columns: readonly string[];
}

/** A dense row-major matrix: row i, column j at `data[i * cols + j]`. */
export interface FeatureMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array | Float64Array;
  readonly columns: readonly string[];
}

const transformOf =
  (t: 'log1p' | 'none') =>
  (x: number): number =>
    t === 'log1p' ? Math.sign(x) * Math.log1p(Math.abs(x)) : x;

/** Code-unit order: the same on every platform and locale. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The `k` most frequent labels (count desc, then label), and whether any other label occurs. */
function topLabels(
  labels: readonly string[],
  counts: Float64Array,
  k: number,
): { vocabulary: string[]; rest: boolean } {
  const order = labels.map((_, i) => i).filter((i) => (counts[i] ?? 0) > 0);
  order.sort(
    (a, b) => (counts[b] ?? 0) - (counts[a] ?? 0) || byText(labels[a] ?? '', labels[b] ?? ''),
  );
  return { vocabulary: order.slice(0, k).map((i) => labels[i] ?? ''), rest: order.length > k };
}

function fitNumeric(c: NumericColumn): NumericEncoding {
  const transform = c.spec.transform ?? 'none';
  const t = transformOf(transform);
  const n = c.values.length;
  let present = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = c.values[i] as number;
    if (Number.isNaN(v)) continue;
    present++;
    sum += t(v);
  }
  const mean = present > 0 ? sum / present : 0;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = c.values[i] as number;
    if (!Number.isNaN(v)) ss += (t(v) - mean) ** 2;
  }
  const sd = present > 1 ? Math.sqrt(ss / (present - 1)) : 0;
  const bins = c.spec.bins ?? DEFAULT_BINS;
  let binEdges: number[] = [];
  if (bins > 1 && present > 0) {
    const stride = Math.max(1, Math.floor(present / QUANTILE_SAMPLE));
    const sample: number[] = [];
    let seen = 0;
    for (let i = 0; i < n; i++) {
      const v = c.values[i] as number;
      if (Number.isNaN(v)) continue;
      if (seen++ % stride === 0) sample.push(t(v));
    }
    const sorted = Float64Array.from(sample).sort();
    const edges = new Set<number>();
    const last = sorted[sorted.length - 1] as number;
    for (let j = 1; j < bins; j++) {
      const e = sorted[Math.min(sorted.length - 1, Math.floor((j * sorted.length) / bins))];
      // An edge at the maximum would leave the last bin empty.
      if (e !== undefined && e < last) edges.add(e);
    }
    binEdges = [...edges].sort((a, b) => a - b);
  }
  return {
    kind: 'numeric',
    name: c.spec.name,
    transform,
    mean,
    sd: sd > 0 && Number.isFinite(sd) ? sd : 1,
    missingColumn: present < n,
    binEdges,
  };
}

function fitCategorical(c: CategoricalColumn): CategoricalEncoding {
  const counts = new Float64Array(c.labels.length);
  let missing = 0;
  for (const code of c.codes) {
    if (code < 0) missing++;
    else counts[code] = (counts[code] ?? 0) + 1;
  }
  const { vocabulary, rest } = topLabels(c.labels, counts, c.spec.topK ?? DEFAULT_TOP_K);
  return {
    kind: 'categorical',
    name: c.spec.name,
    vocabulary,
    otherColumn: rest,
    missingColumn: missing > 0,
  };
}

function fitMulti(c: MultiColumn): MultiEncoding {
  const counts = new Float64Array(c.labels.length);
  for (const code of c.codes) counts[code] = (counts[code] ?? 0) + 1;
  const { vocabulary } = topLabels(c.labels, counts, c.spec.topK ?? DEFAULT_TOP_K);
  return { kind: 'multi', name: c.spec.name, vocabulary };
}

function columnsOf(f: FeatureEncoding): string[] {
  switch (f.kind) {
    case 'numeric': {
      const out = [f.name];
      if (f.missingColumn) out.push(`${f.name}:missing`);
      if (f.binEdges.length > 0)
        for (let j = 0; j <= f.binEdges.length; j++) out.push(`${f.name}:q${j + 1}`);
      return out;
    }
    case 'categorical': {
      const out = f.vocabulary.map((v) => `${f.name}=${v}`);
      if (f.otherColumn) out.push(`${f.name}=(other)`);
      if (f.missingColumn) out.push(`${f.name}=(missing)`);
      return out;
    }
    case 'multi':
      return f.vocabulary.map((v) => `${f.name}=${v}`);
  }
}

/** Learns the encoding of `raw`: statistics, quantile edges and vocabularies. */
export function fitEncoding(raw: RawFeatures): Encoding {
  const features = raw.columns.map((c): FeatureEncoding => {
    switch (c.kind) {
      case 'numeric':
        return fitNumeric(c);
      case 'categorical':
        return fitCategorical(c);
      case 'multi':
        return fitMulti(c);
    }
  });
  return { features, columns: features.flatMap(columnsOf) };
}

export interface EncodeOptions {
  readonly precision?: 'float32' | 'float64';
  /** Only these people (row indexes of `raw`), in this order: matrix row r is person `rows[r]`. Default: everyone. */
  readonly rows?: Int32Array;
}

/**
 * `raw` as a dense matrix, column by column as `encoding` says (learnt from
 * this data or other data with the same features, in the same order).
 * Float32 by default (half the memory; the model computes in float64).
 */
export function encodeFeatures(
  raw: RawFeatures,
  encoding: Encoding,
  opts: EncodeOptions = {},
): FeatureMatrix {
  const sel = opts.rows;
  const rows = sel ? sel.length : raw.size;
  const cols = encoding.columns.length;
  const data =
    opts.precision === 'float64' ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  let base = 0;
  encoding.features.forEach((f, k) => {
    const c = raw.columns[k];
    if (c === undefined || c.kind !== f.kind || c.spec.name !== f.name)
      throw new Error(`encoding feature ${k} (${f.name}) does not match the raw features`);
    const width = columnsOf(f).length;
    switch (f.kind) {
      case 'numeric':
        fillNumeric(data, cols, base, sel, f, c as NumericColumn);
        break;
      case 'categorical':
        fillCategorical(data, cols, base, sel, f, c as CategoricalColumn);
        break;
      case 'multi':
        fillMulti(data, cols, base, sel, f, c as MultiColumn);
        break;
    }
    base += width;
  });
  return { rows, cols, data, columns: encoding.columns };
}

function fillNumeric(
  data: Float32Array | Float64Array,
  cols: number,
  base: number,
  sel: Int32Array | undefined,
  f: NumericEncoding,
  c: NumericColumn,
): void {
  const t = transformOf(f.transform);
  const missingAt = f.missingColumn ? base + 1 : -1;
  const binBase = base + 1 + (f.missingColumn ? 1 : 0);
  const edges = f.binEdges;
  const n = sel ? sel.length : c.values.length;
  for (let r = 0, row = 0; r < n; r++, row += cols) {
    const v = c.values[sel ? (sel[r] as number) : r] as number;
    if (Number.isNaN(v)) {
      if (missingAt >= 0) data[row + missingAt] = 1;
      continue;
    }
    const x = t(v);
    const z = (x - f.mean) / f.sd;
    data[row + base] = z > CLIP_SD ? CLIP_SD : z < -CLIP_SD ? -CLIP_SD : z;
    if (edges.length > 0) {
      let b = 0;
      while (b < edges.length && x > (edges[b] as number)) b++;
      data[row + binBase + b] = 1;
    }
  }
}

function codeMap(
  labels: readonly string[],
  vocabulary: readonly string[],
  other: number,
): Int32Array {
  const at = new Map(vocabulary.map((v, j) => [v, j]));
  return Int32Array.from(labels, (l) => at.get(l) ?? other);
}

function fillCategorical(
  data: Float32Array | Float64Array,
  cols: number,
  base: number,
  sel: Int32Array | undefined,
  f: CategoricalEncoding,
  c: CategoricalColumn,
): void {
  const other = f.otherColumn ? f.vocabulary.length : -1;
  const missing = f.missingColumn ? f.vocabulary.length + (f.otherColumn ? 1 : 0) : -1;
  const toCol = codeMap(c.labels, f.vocabulary, other);
  const n = sel ? sel.length : c.codes.length;
  for (let r = 0, row = 0; r < n; r++, row += cols) {
    const code = c.codes[sel ? (sel[r] as number) : r] as number;
    const j = code < 0 ? missing : (toCol[code] as number);
    if (j >= 0) data[row + base + j] = 1;
  }
}

function fillMulti(
  data: Float32Array | Float64Array,
  cols: number,
  base: number,
  sel: Int32Array | undefined,
  f: MultiEncoding,
  c: MultiColumn,
): void {
  const toCol = codeMap(c.labels, f.vocabulary, -1);
  const n = sel ? sel.length : c.offsets.length - 1;
  for (let r = 0, row = 0; r < n; r++, row += cols) {
    const i = sel ? (sel[r] as number) : r;
    const end = c.offsets[i + 1] as number;
    for (let p = c.offsets[i] as number; p < end; p++) {
      const j = toCol[c.codes[p] as number] as number;
      if (j >= 0) data[row + base + j] = 1;
    }
  }
}

/** Fits the encoding of `raw` and encodes it. */
export function encode(
  raw: RawFeatures,
  opts: EncodeOptions = {},
): { encoding: Encoding; matrix: FeatureMatrix } {
  const encoding = fitEncoding(raw);
  return { encoding, matrix: encodeFeatures(raw, encoding, opts) };
}
