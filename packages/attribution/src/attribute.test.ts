import { describe, expect, it } from 'vitest';
import { attribute, attributeModel } from './attribute.js';
import { AttributionError } from './errors.js';
import { DEFAULT_TRANSFORMS, MODEL_NAMES, type ModelSpec } from './model-spec.js';
import type { PathRow } from './types.js';

const rows: PathRow[] = [
  { path: ['Search', 'Email'], conversions: 2, value: 50, nulls: 3 },
  { path: [{ channel: 'Email', msBeforeConversion: 1000 }], conversions: 1, value: 10, nulls: 0 },
  { path: ['Social'], conversions: 0, value: 0, nulls: 4 },
];

function issuesOf(f: () => unknown): { code: string; fields: string[] } {
  try {
    f();
  } catch (e) {
    if (e instanceof AttributionError)
      return { code: e.code, fields: e.issues.map((i) => i.field) };
    throw e;
  }
  throw new Error('expected an AttributionError');
}

describe('attribute', () => {
  it('runs every model by name, in order, with totals and every channel listed', () => {
    const r = attribute(rows, { models: MODEL_NAMES });
    expect(r.totals).toEqual({
      conversions: 3,
      value: 60,
      nulls: 7,
      rows: 3,
      channels: ['Email', 'Search', 'Social'],
    });
    expect(r.models.map((m) => m.label)).toEqual(MODEL_NAMES);
    for (const m of r.models) {
      expect(m.transform).toBe(DEFAULT_TRANSFORMS[m.model]);
      expect(m.credits.map((c) => c.channel)).toEqual(['Email', 'Search', 'Social']);
    }
    expect(r.models.find((m) => m.model === 'last_touch')?.credits).toEqual([
      { channel: 'Email', conversions: 3, value: 60 },
      { channel: 'Search', conversions: 0, value: 0 },
      { channel: 'Social', conversions: 0, value: 0 },
    ]);
  });

  it('runs the same model twice under different labels', () => {
    const r = attribute(rows, {
      models: [
        'markov',
        { model: 'markov', order: 2 },
        { model: 'linear', label: 'linear_exposure', transform: 'exposure' },
      ],
    });
    expect(r.models.map((m) => m.label)).toEqual(['markov', 'markov_order_2', 'linear_exposure']);
    expect(r.models[1]?.markov?.order).toBe(2);
  });

  it('gives zero credit everywhere when nothing converted', () => {
    const r = attributeModel(
      [{ path: ['A', 'B'], conversions: 0, value: 0, nulls: 9 }],
      'shapley_simplified',
    );
    expect(r.credits).toEqual([
      { channel: 'A', conversions: 0, value: 0 },
      { channel: 'B', conversions: 0, value: 0 },
    ]);
  });

  it('reports every bad row field at once', () => {
    const bad = [
      { path: [], conversions: 1, value: 1, nulls: 0 },
      {
        path: ['A', '', { channel: 'B', msBeforeConversion: -1 }, 7],
        conversions: Number.NaN,
        value: -2,
        nulls: '3',
      },
      { path: ['A'], conversions: 0, value: 5, nulls: 0 },
      null,
    ] as unknown as PathRow[];
    expect(issuesOf(() => attribute(bad, { models: ['linear'] }))).toEqual({
      code: 'CDP_ERR_ATTRIBUTION_INVALID_INPUT',
      fields: [
        'rows[0].path',
        'rows[1].path[1]',
        'rows[1].path[2].msBeforeConversion',
        'rows[1].path[3]',
        'rows[1].conversions',
        'rows[1].value',
        'rows[1].nulls',
        'rows[2].value',
        'rows[3]',
      ],
    });
  });

  it('reports every bad option at once', () => {
    const models = [
      'lienar',
      { model: 'markov', order: 0, solver: { tolerance: 2, bogus: 1 } },
      { model: 'position_based', weights: { first: 0.5, middle: 0.5, last: 0.5 } },
      { model: 'time_decay', halfLifeMs: 0, transform: 'reverse' },
      { model: 'last_touch', directChannel: 'Direct' },
      { model: 'shapley_exact', maxCoalitionChannels: 30 },
      { model: 'shapley_simplified', retransformCounterfactuals: 'yes' },
      { model: 'last_non_direct', directChannel: '' },
    ] as unknown as ModelSpec[];
    expect(issuesOf(() => attribute(rows, { models }))).toEqual({
      code: 'CDP_ERR_ATTRIBUTION_INVALID_OPTIONS',
      fields: [
        'models[0]',
        'models[1].order',
        'models[1].solver.tolerance',
        'models[1].solver.bogus',
        'models[2].weights',
        'models[3].transform',
        'models[3].halfLifeMs',
        'models[4].directChannel',
        'models[5].maxCoalitionChannels',
        'models[6].retransformCounterfactuals',
        'models[7].directChannel',
      ],
    });
  });

  it.each<[string, unknown]>([
    ['no models', { models: [] }],
    ['no options', undefined],
  ])('refuses %s', (_name, options) => {
    expect(issuesOf(() => attribute(rows, options as { models: ModelSpec[] }))).toEqual({
      code: 'CDP_ERR_ATTRIBUTION_INVALID_OPTIONS',
      fields: ['models'],
    });
  });

  it('refuses the frequency transform on channel names with parentheses, naming the model', () => {
    const odd: PathRow[] = [{ path: ['(direct)', 'A'], conversions: 1, value: 1, nulls: 0 }];
    expect(attributeModel(odd, 'shapley_simplified').credits).toHaveLength(2);
    expect(
      issuesOf(() =>
        attribute(odd, {
          models: ['linear', { model: 'shapley_simplified', transform: 'frequency' }],
        }),
      ),
    ).toEqual({ code: 'CDP_ERR_ATTRIBUTION_INVALID_OPTIONS', fields: ['models[1].transform'] });
  });

  it('refuses duplicate labels', () => {
    expect(
      issuesOf(() => attribute(rows, { models: ['markov', { model: 'markov', order: 1 }] })),
    ).toEqual({
      code: 'CDP_ERR_ATTRIBUTION_INVALID_OPTIONS',
      fields: ['models[1].label'],
    });
  });

  it('names the fields in the message and serialises to JSON', () => {
    const e = new AttributionError('CDP_ERR_ATTRIBUTION_INVALID_INPUT', [
      { field: 'rows[0].path', message: 'bad' },
    ]);
    expect(e.message).toBe('The path rows are not valid: rows[0].path: bad');
    expect(e.statusCode).toBe(400);
    expect(e.field).toBe('rows[0].path');
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'CDP_ERR_ATTRIBUTION_INVALID_INPUT',
      message: 'The path rows are not valid: rows[0].path: bad',
      issues: [{ field: 'rows[0].path', message: 'bad' }],
    });
  });
});
