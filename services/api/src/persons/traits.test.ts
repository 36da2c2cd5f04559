import { describe, expect, it } from 'vitest';
import { foldTraits, parseObject } from './traits.js';

describe('foldTraits', () => {
  it.each([
    { name: 'no identify calls', docs: [], traits: {} },
    { name: 'one call', docs: ['{"plan":"free","age":30}'], traits: { plan: 'free', age: 30 } },
    {
      name: 'a later call wins per key, keys it leaves out stay',
      docs: ['{"plan":"free","name":"Ada"}', '{"plan":"pro"}'],
      traits: { plan: 'pro', name: 'Ada' },
    },
    {
      name: 'null clears a trait, a later value sets it again',
      docs: [
        '{"plan":"pro","company":"Acme"}',
        '{"company":null}',
        '{"plan":null}',
        '{"plan":"team"}',
      ],
      traits: { plan: 'team' },
    },
    {
      name: 'nested values are replaced whole, not merged',
      docs: ['{"address":{"city":"Paris","zip":"75001"}}', '{"address":{"city":"Lyon"}}'],
      traits: { address: { city: 'Lyon' } },
    },
    {
      name: 'documents that are not objects are skipped',
      docs: ['{"plan":"pro"}', 'not json', '[1,2]', 'null', '"x"', '{}'],
      traits: { plan: 'pro' },
    },
  ])('$name', ({ docs, traits }) => {
    expect(foldTraits(docs)).toEqual(traits);
  });

  it('keeps a trait named __proto__ as a trait, without touching the prototype', () => {
    const t = foldTraits(['{"__proto__":{"admin":true},"plan":"pro"}']);
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype);
    expect(Object.keys(t)).toEqual(['__proto__', 'plan']);
    expect((t as { admin?: unknown }).admin).toBeUndefined();
  });
});

describe('parseObject', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['{}', {}],
    ['[]', undefined],
    ['null', undefined],
    ['1', undefined],
    ['{', undefined],
  ])('%s', (doc, out) => {
    expect(parseObject(doc)).toEqual(out);
  });
});
