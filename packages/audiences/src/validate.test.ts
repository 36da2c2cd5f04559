import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CdpError } from '@cdp/core';
import { audienceReferences, inlineAudiences, validateAudience } from './validate.js';
import type { AudienceDefinition } from './types.js';

const fieldOf = (input: unknown): string | undefined => {
  try {
    validateAudience(input);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(CdpError);
    expect((err as CdpError).code).toBe('CDP_ERR_AUDIENCE_INVALID');
    return (err as CdpError).field;
  }
};

const performed = (within: unknown): unknown => ({
  performed: { event: 'Order Completed', within },
});

/** The JSON Schema published for editors and other tools (schemas/audiences). */
const schema = new Ajv({ strict: false }).compile(
  JSON.parse(
    readFileSync(
      new URL('../../../schemas/audiences/audience-definition.json', import.meta.url),
      'utf8',
    ),
  ) as object,
);

/** Cases only validateAudience refuses (bounds between fields, whole numbers): the schema cannot say them. */
const VALIDATOR_ONLY = new Set(
  [
    performed({ from: '2025-02-01', to: '2025-01-01' }),
    { tag: { name: 't', op: 'between', value: [5, 1] } },
    { performed: { event: 'E', count: { op: 'gte', value: 1.5 } } },
  ].map((c) => JSON.stringify({ conditions: c })),
);

describe('validateAudience', () => {
  it('accepts every kind of condition', () => {
    const def = {
      description: 'everything',
      conditions: {
        and: [
          { trait: { name: 'plan', op: 'eq', value: 'gold' } },
          { tag: { name: 'rfm_group', op: 'in', value: ['Champions', 'Loyal'] } },
          {
            performed: {
              event: 'Order Completed',
              where: [{ property: 'product.category', op: 'contains', value: 'shoe' }],
              count: { op: 'between', value: [1, 3] },
              within: { from: '2025-01-01', to: '2025-01-31T12:00:00Z' },
              aggregate: { fn: 'sum', property: 'revenue', op: 'gte', value: 100 },
            },
          },
          {
            sequence: {
              steps: [{ event: 'Product Added' }, { event: 'Order Completed' }],
              within: { hours: 24 },
            },
          },
          { first_time: { event: 'Order Completed', within: { days: 7 } } },
          { stopped: { event: 'Order Completed', before: { days: 30 }, not_within: { days: 30 } } },
          {
            restarted: {
              event: 'Order Completed',
              before: { days: 60 },
              gap: { days: 30 },
              within: { days: 7 },
            },
          },
          { or: [{ in_audience: 'vips' }, { not: { identifier: { type: 'exists' } } }] },
          { identifier: { type: 'external:shop_buyer_id' } },
          { tag: { name: 'churn_risk', op: 'exists' } },
        ],
      },
    };
    expect(validateAudience(def)).toBe(def);
    expect(schema(def), JSON.stringify(schema.errors)).toBe(true);
  });

  it.each([
    [{ conditions: { and: [{}, {}, performed({ days: 0 })] } }, 'conditions.and[0]'],
    [
      {
        conditions: {
          and: [performed({ days: 7 }), performed({ days: 7 }), performed({ days: 0 })],
        },
      },
      'conditions.and[2].performed.within.days',
    ],
    [{ conditions: performed({ days: 7, hours: 2 }) }, 'conditions.performed.within'],
    [
      { conditions: performed({ from: '2025-02-01', to: '2025-01-01' }) },
      'conditions.performed.within.to',
    ],
    [{ conditions: { trait: { name: 'plan', op: 'like', value: 'x' } } }, 'conditions.trait.op'],
    [{ conditions: { trait: { name: 'age', op: 'gt', value: '18' } } }, 'conditions.trait.value'],
    [{ conditions: { tag: { name: 't', op: 'exists', value: 1 } } }, 'conditions.tag.value'],
    [{ conditions: { tag: { name: 't', op: 'in', value: ['a', 1] } } }, 'conditions.tag.value[1]'],
    [
      { conditions: { tag: { name: 't', op: 'between', value: [5, 1] } } },
      'conditions.tag.value[1]',
    ],
    [
      { conditions: { performed: { event: 'E', where: [{ property: 'p', op: 'eq' }] } } },
      'conditions.performed.where[0].value',
    ],
    [
      { conditions: { performed: { event: 'E', count: { op: 'gte', value: 1.5 } } } },
      'conditions.performed.count.value',
    ],
    [
      {
        conditions: {
          performed: { event: 'E', aggregate: { fn: 'median', property: 'p', op: 'gt', value: 1 } },
        },
      },
      'conditions.performed.aggregate.fn',
    ],
    [
      { conditions: { sequence: { steps: [{ event: 'A' }], within: { days: 1 } } } },
      'conditions.sequence.steps',
    ],
    [
      { conditions: { sequence: { steps: [{ event: 'A' }, { event: 'B' }] } } },
      'conditions.sequence.within',
    ],
    [{ conditions: { in_audience: 'Not A Name' } }, 'conditions.in_audience'],
    [{ conditions: { identifier: { type: 'fax' } } }, 'conditions.identifier.type'],
    [{ conditions: { not: { and: [] } } }, 'conditions.not.and'],
    [{ conditions: { performed: { event: 'E', extra: 1 } } }, 'conditions.performed.extra'],
    [{}, 'conditions'],
    [[], 'definition'],
  ])('names the path of what is wrong (%#)', (input, field) => {
    expect(fieldOf(input)).toBe(field);
    // The published schema refuses it too.
    if (!VALIDATOR_ONLY.has(JSON.stringify(input)))
      expect(schema(input), `${JSON.stringify(input)} passed the schema`).toBe(false);
  });

  it('refuses trees deeper or larger than the limits', () => {
    let deep: unknown = { in_audience: 'a' };
    for (let i = 0; i < 20; i++) deep = { not: deep };
    expect(fieldOf({ conditions: deep })).toMatch(/^conditions(\.not)+$/);
    const wide = { or: Array.from({ length: 250 }, () => ({ in_audience: 'a' })) };
    expect(fieldOf({ conditions: wide })).toMatch(/^conditions\.or\[\d+\]$/);
  });
});

describe('in_audience', () => {
  const defs: Record<string, AudienceDefinition> = {
    vips: { conditions: { tag: { name: 'tier', op: 'eq', value: 'gold' } } },
    loyal_vips: {
      conditions: {
        and: [{ in_audience: 'vips' }, { tag: { name: 'rfm_group', op: 'eq', value: 'Loyal' } }],
      },
    },
    a: { conditions: { in_audience: 'b' } },
    b: { conditions: { or: [{ in_audience: 'a' }] } },
  };
  const lookup = (n: string): AudienceDefinition | undefined => defs[n];

  it('inlines the named audiences, transitively', () => {
    expect(audienceReferences(defs['loyal_vips']!)).toEqual(['vips']);
    expect(inlineAudiences({ conditions: { not: { in_audience: 'loyal_vips' } } }, lookup)).toEqual(
      {
        not: {
          and: [
            { tag: { name: 'tier', op: 'eq', value: 'gold' } },
            { tag: { name: 'rfm_group', op: 'eq', value: 'Loyal' } },
          ],
        },
      },
    );
  });

  it('refuses a cycle and a missing audience, naming where', () => {
    expect(() => inlineAudiences(defs['a']!, lookup, 'a')).toThrow(/a -> b -> a/);
    try {
      inlineAudiences({ conditions: { and: [{ in_audience: 'nope' }] } }, lookup);
      expect.unreachable();
    } catch (err) {
      expect((err as CdpError).field).toBe('conditions.and[0].in_audience');
    }
  });
});
