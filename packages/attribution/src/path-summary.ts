import { normalizeRows, type NormalizedRow } from './rows.js';
import { compileTransform, type LabelledPath, type PathTransform } from './transforms.js';
import type { PathRow } from './types.js';

/** Numbers each distinct label, so a path can be keyed by a string of small ints. */
export class LabelIndex {
  private readonly ids = new Map<string, number>();
  /** The label of each id. */
  readonly labels: string[] = [];
  /** The channel of each id (differs from the label under `frequency`). */
  readonly channels: string[] = [];

  id(label: string, channel: string): number {
    let id = this.ids.get(label);
    if (id === undefined) {
      id = this.labels.length;
      this.ids.set(label, id);
      this.labels.push(label);
      this.channels.push(channel);
    }
    return id;
  }

  /** The ids of a transformed path of a row with the given channels. */
  idsOf(path: LabelledPath, channels: readonly string[]): number[] {
    const { labels, source } = path;
    const ids = new Array<number>(labels.length);
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i] as string;
      ids[i] = this.id(
        label,
        source === undefined ? label : (channels[source[i] as number] as string),
      );
    }
    return ids;
  }
}

/** The key of a path given as label ids; unambiguous since ids are integers. */
export const pathKey = (ids: readonly number[]): string => ids.join(',');

/** Rows sharing one transformed path, summed. */
export interface AggregatedPath {
  readonly key: string;
  readonly ids: readonly number[];
  conversions: number;
  nulls: number;
  value: number;
}

/**
 * Transforms every row and sums rows whose transformed paths are equal (by
 * label), as fractribution's path summary does. Keeps first-seen order.
 */
export function aggregatePaths(
  rows: readonly NormalizedRow[],
  transform: PathTransform,
  index: LabelIndex = new LabelIndex(),
): AggregatedPath[] {
  const byKey = new Map<string, AggregatedPath>();
  const apply = compileTransform(transform);
  for (const row of rows) {
    const ids = index.idsOf(apply(row.channels), row.channels);
    const key = pathKey(ids);
    const found = byKey.get(key);
    if (found === undefined) {
      byKey.set(key, {
        key,
        ids,
        conversions: row.conversions,
        nulls: row.nulls,
        value: row.value,
      });
    } else {
      found.conversions += row.conversions;
      found.nulls += row.nulls;
      found.value += row.value;
    }
  }
  return [...byKey.values()];
}

/** Aggregated paths plus the index that numbers their labels. */
export interface AggregatedPaths {
  readonly index: LabelIndex;
  readonly paths: readonly AggregatedPath[];
}

/**
 * Memoises {@link aggregatePaths} per transform over one set of rows, so the
 * models of one `attribute` call that share a transform aggregate once.
 */
export function createPathAggregator(
  rows: readonly NormalizedRow[],
): (transform: PathTransform) => AggregatedPaths {
  const cache = new Map<string, AggregatedPaths>();
  return (transform) => {
    const key = JSON.stringify(transform);
    let hit = cache.get(key);
    if (hit === undefined) {
      const index = new LabelIndex();
      hit = { index, paths: aggregatePaths(rows, transform, index) };
      cache.set(key, hit);
    }
    return hit;
  };
}

/** One transformed path with its summed counts, like fractribution's `path_summary` table. */
export interface PathSummary {
  /** The transformed path's labels, e.g. `['Organic_Search', 'Direct']`. */
  readonly path: readonly string[];
  readonly conversions: number;
  /** Non-converting journeys (`non_conversions` in fractribution). */
  readonly nulls: number;
  /** Summed value (`revenue`); 0 where fractribution shows NULL. */
  readonly value: number;
}

/**
 * Groups rows by their transformed path, summing conversions, nulls and value:
 * fractribution's `path_summary` (a full join of the conversion and
 * non-conversion paths grouped by `transformed_path`). First-seen order.
 *
 * @throws AttributionError on invalid rows.
 */
export function summarizePaths(
  rows: readonly PathRow[],
  transform: PathTransform = 'exposure',
): PathSummary[] {
  const index = new LabelIndex();
  return toSummaries({ index, paths: aggregatePaths(normalizeRows(rows).rows, transform, index) });
}

/** Aggregated paths as {@link PathSummary} rows (labels instead of ids). */
export function toSummaries({ index, paths }: AggregatedPaths): PathSummary[] {
  return paths.map((p) => ({
    path: p.ids.map((id) => index.labels[id] as string),
    conversions: p.conversions,
    nulls: p.nulls,
    value: p.value,
  }));
}
