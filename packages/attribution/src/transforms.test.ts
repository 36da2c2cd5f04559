import { describe, expect, it } from 'vitest';
import { isAttributionError } from './errors.js';
import { attribute } from './attribute.js';
import { summarizePaths } from './path-summary.js';
import {
  formatPath,
  parsePathString,
  transformChannels,
  transformPath,
  validateTransform,
  type PathTransform,
} from './transforms.js';

const FRACTRIBUTION_EXAMPLE = ['D', 'A', 'B', 'B', 'C', 'D', 'C', 'C'];

describe('path transforms', () => {
  // The examples of fractribution's tuple_transforms.py docstrings.
  it.each<[PathTransform, string[]]>([
    ['unique', ['D', 'A', 'B', 'B', 'C', 'D', 'C', 'C']],
    ['exposure', ['D', 'A', 'B', 'C', 'D', 'C']],
    ['first', ['D', 'A', 'B', 'C']],
    ['frequency', ['D(2)', 'A(1)', 'B(2)', 'C(3)']],
  ])('%s turns D > A > B > B > C > D > C > C into %j', (transform, expected) => {
    expect(transformChannels(FRACTRIBUTION_EXAMPLE, transform)).toEqual(expected);
  });

  // Snowplow's extra steps, with the examples of its create_udfs.sql comments.
  it.each<[string, string[], PathTransform, string[]]>([
    ['removeIfNotAll drops every A', ['A', 'B', 'A', 'A'], { removeIfNotAll: 'A' }, ['B']],
    ['removeIfNotAll keeps an all-A path', ['A', 'A'], { removeIfNotAll: 'A' }, ['A', 'A']],
    [
      'removeIfLastAndNotAll drops the trailing As',
      ['A', 'B', 'A', 'A'],
      { removeIfLastAndNotAll: 'A' },
      ['A', 'B'],
    ],
    [
      'removeIfLastAndNotAll keeps an all-A path',
      ['A', 'A'],
      { removeIfLastAndNotAll: 'A' },
      ['A', 'A'],
    ],
    [
      'removeIfLastAndNotAll leaves a path not ending in A',
      ['A', 'B'],
      { removeIfLastAndNotAll: 'A' },
      ['A', 'B'],
    ],
    ['lookbackSteps keeps the last n', ['A', 'B', 'C', 'D'], { lookbackSteps: 2 }, ['C', 'D']],
    ['lookbackSteps longer than the path', ['A'], { lookbackSteps: 5 }, ['A']],
    [
      'steps run left to right',
      ['A', 'A', 'B', 'A'],
      [{ lookbackSteps: 3 }, 'exposure'],
      ['A', 'B', 'A'],
    ],
    ['exposure then first', ['A', 'B', 'A'], ['exposure', 'first'], ['A', 'B']],
  ])('%s', (_name, path, transform, expected) => {
    expect(transformChannels(path, transform)).toEqual(expected);
  });

  it('keeps the channel apart from the frequency label, and the first touch of a collapsed run', () => {
    expect(
      transformPath(
        [
          { channel: 'A', msBeforeConversion: 30 },
          { channel: 'A', msBeforeConversion: 20 },
          { channel: 'B', msBeforeConversion: 10 },
        ],
        'frequency',
      ),
    ).toEqual([
      { channel: 'A', label: 'A(2)', msBeforeConversion: 30 },
      { channel: 'B', label: 'B(1)', msBeforeConversion: 10 },
    ]);
    expect(transformPath(['A', 'A'], 'exposure')).toEqual([{ channel: 'A', label: 'A' }]);
  });

  it('refuses channel names with parentheses under frequency, as fractribution does', () => {
    expect(() => transformChannels(['A(x)'], 'frequency')).toThrow(/forbids channel names/);
    expect(transformChannels(['A(x)'], 'exposure')).toEqual(['A(x)']);
  });

  it('parses and formats path strings with " > "', () => {
    expect(parsePathString('Organic_Search > Direct')).toEqual(['Organic_Search', 'Direct']);
    expect(parsePathString('')).toEqual([]);
    expect(formatPath(transformPath(['A', 'A', 'B'], 'frequency'))).toBe('A(2) > B(1)');
    expect(formatPath([{ channel: 'A' }, 'B'])).toBe('A > B');
  });

  it.each<[unknown, string[]]>([
    ['exposure', []],
    [['exposure', { lookbackSteps: 3 }], []],
    ['bogus', ['t']],
    [[], ['t']],
    [[{ lookbackSteps: 0 }], ['t[0].lookbackSteps']],
    [[{ removeIfNotAll: '' }], ['t[0].removeIfNotAll']],
    [{ removeIfNotAll: 'A', lookbackSteps: 2 }, ['t']],
    [{ reverse: true }, ['t']],
    [42, ['t']],
  ])('validateTransform(%j) flags %j', (transform, fields) => {
    expect(validateTransform(transform, 't').map((i) => i.field)).toEqual(fields);
  });

  it('summarizes paths by transformed path, as the path_summary table', () => {
    const summary = summarizePaths([
      { path: ['Direct', 'Direct'], conversions: 1, value: 24, nulls: 0 },
      { path: ['Direct'], conversions: 1, value: 50, nulls: 2 },
      { path: ['Referral', 'Direct'], conversions: 0, value: 0, nulls: 1 },
    ]);
    expect(summary).toEqual([
      { path: ['Direct'], conversions: 2, nulls: 2, value: 74 },
      { path: ['Referral', 'Direct'], conversions: 0, nulls: 1, value: 0 },
    ]);
    expect(
      summarizePaths([{ path: ['A', 'A'], conversions: 1, value: 1, nulls: 0 }], 'unique'),
    ).toEqual([{ path: ['A', 'A'], conversions: 1, nulls: 0, value: 1 }]);
  });

  it('gives the same summary from attribute({summary}) as from summarizePaths', () => {
    const rows = [
      { path: ['Direct', 'Direct'], conversions: 1, value: 24, nulls: 0 },
      { path: ['Email', 'Direct', 'Email'], conversions: 2, value: 50, nulls: 2 },
      { path: ['Referral', 'Direct'], conversions: 0, value: 0, nulls: 1 },
    ];
    for (const t of ['exposure', 'first', 'unique', 'frequency'] as const)
      expect(attribute(rows, { models: ['markov'], summary: t }).summary).toEqual(
        summarizePaths(rows, t),
      );
    expect(attribute(rows, { models: ['markov'] }).summary).toBeUndefined();
  });

  it('validates rows before summarizing', () => {
    try {
      summarizePaths([{ path: [], conversions: -1, value: 0, nulls: 0 }]);
      expect.unreachable();
    } catch (e) {
      expect(isAttributionError(e) && e.issues.map((i) => i.field)).toEqual([
        'rows[0].path',
        'rows[0].conversions',
      ]);
    }
  });
});
