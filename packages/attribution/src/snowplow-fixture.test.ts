import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attribute } from './attribute.js';
import { creditOf } from './credits.js';
import { summarizePaths } from './path-summary.js';
import { simplifiedShapleyPaths } from './shapley-simplified.js';
import { formatPath, parsePathString } from './transforms.js';
import type { PathRow } from './types.js';

// Snowplow's dbt-snowplow-fractribution integration-test answer key (read-only).
// A copy of Snowplow's fixture (Apache-2.0, see its README) kept in the repo, so that CI on a clean clone has it.
const FIXTURES = new URL('../../../test/fixtures/snowplow-fractribution/', import.meta.url);

/** Reads one of the fixture CSVs (plain: no quoted fields) as records keyed by header. */
function readCsv(name: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(
    new URL(`snowplow_fractribution_${name}.csv`, FIXTURES),
    'utf8',
  )
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const keys = (header as string).split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i] as string, v])));
}

const field = (r: Record<string, string>, k: string): string => r[k] as string;

/**
 * The customer-level paths, one row per journey, as fractribution's
 * path_summary consumes them: a conversion row carries its revenue, a
 * non-conversion row counts one null. The raw `path` is given, so the
 * exposure transform is exercised too (the expected `transformed_path` is
 * checked separately).
 */
const conversionRows = readCsv('paths_to_conversion_expected');
const nonConversionRows = readCsv('paths_to_non_conversion_expected');
const rows: PathRow[] = [
  ...conversionRows.map((r) => ({
    path: parsePathString(field(r, 'path')),
    conversions: 1,
    value: Number(field(r, 'revenue')),
    nulls: 0,
  })),
  ...nonConversionRows.map((r) => ({
    path: parsePathString(field(r, 'path')),
    conversions: 0,
    value: 0,
    nulls: 1,
  })),
];

describe("Snowplow fractribution's answer key", () => {
  it('has the journeys it should', () => {
    expect(conversionRows).toHaveLength(6);
    expect(nonConversionRows).toHaveLength(61);
  });

  it("the exposure transform gives each journey's transformed_path", () => {
    for (const r of [...conversionRows, ...nonConversionRows]) {
      const summary = summarizePaths([
        { path: parsePathString(field(r, 'path')), conversions: 1, value: 0, nulls: 0 },
      ]);
      expect(formatPath(summary[0]?.path ?? [])).toBe(field(r, 'transformed_path'));
    }
  });

  it('reproduces path_summary_expected.csv', () => {
    const expected = readCsv('path_summary_expected').map((r) => ({
      path: field(r, 'transformed_path'),
      conversions: Number(field(r, 'conversions')),
      nulls: Number(field(r, 'non_conversions')),
      value: field(r, 'revenue') === '' ? 0 : Number(field(r, 'revenue')),
    }));
    const actual = summarizePaths(rows, 'exposure').map((p) => ({
      ...p,
      path: formatPath(p.path),
    }));
    const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : 1);
    expect(actual.sort(byPath).map((p) => ({ ...p, value: Number(p.value.toFixed(6)) }))).toEqual(
      expected.sort(byPath),
    );
  });

  const expectedCredits = readCsv('channel_attribution_expected');
  const result = attribute(rows, {
    models: [
      { model: 'shapley_simplified', label: 'shapley', transform: 'exposure' },
      { model: 'last_touch', transform: 'exposure' },
    ],
  });

  it.each(
    expectedCredits.map((r) => [field(r, 'ATTRIBUTION_TYPE'), field(r, 'CHANNEL'), r] as const),
  )('channel_attribution_expected.csv: %s credits %s', (type, channel, r) => {
    const model = result.models.find((m) => m.label === type);
    expect(model).toBeDefined();
    const credit = creditOf(model ?? [], channel);
    expect(credit.conversions).toBeCloseTo(Number(field(r, 'CONVERSIONS')), 6);
    expect(credit.value).toBeCloseTo(Number(field(r, 'REVENUE')), 6);
  });

  it('credits exactly the channels the answer key lists', () => {
    const channels = [...new Set(expectedCredits.map((r) => field(r, 'CHANNEL')))].sort();
    for (const m of result.models) expect(m.credits.map((c) => c.channel)).toEqual(channels);
    expect(result.totals).toMatchObject({ conversions: 6, nulls: 61 });
    expect(result.totals.value).toBeCloseTo(500.92, 9);
  });

  it('reproduces the shapley rows of path_summary_with_channels_expected.csv (3 decimals)', () => {
    const expected = readCsv('path_summary_with_channels_expected').filter(
      (r) => field(r, 'ATTRIBUTION_TYPE') === 'shapley',
    );
    const paths = new Map(simplifiedShapleyPaths(rows).map((p) => [formatPath(p.path), p]));
    expect(paths.size).toBe(expected.length);
    for (const r of expected) {
      const p = paths.get(field(r, 'TRANSFORMED_PATH'));
      expect(p, field(r, 'TRANSFORMED_PATH')).toBeDefined();
      expect(p?.conversions).toBe(Number(field(r, 'CONVERSIONS')));
      expect(p?.nulls).toBe(Number(field(r, 'NON_CONVERSIONS')));
      for (const s of p?.shares ?? []) {
        const cell = field(r, s.channel.toUpperCase());
        expect(cell, `${field(r, 'TRANSFORMED_PATH')} / ${s.channel}`).not.toBe('');
        expect(s.share).toBeCloseTo(Number(cell), 3);
      }
    }
  });
});
